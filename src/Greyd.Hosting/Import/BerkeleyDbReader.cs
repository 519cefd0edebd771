using System.Buffers.Binary;

namespace Greyd.Hosting.Import;

/// <summary>
/// Reads the key and value pairs of a Berkeley DB B-tree file (postgrey.db, postgrey_clients.db) without libdb:
/// the metadata page, then every leaf page from the root down, with overflow items and either byte order.
/// Encrypted files, recno trees, subdatabases and compressed trees are refused; page checksums are not verified.
/// Every page number is checked against the file and every page is read once, so a damaged file ends in a
/// <see cref="PostgreyImportException"/>, never a loop.
/// </summary>
/// <param name="file">The file, seekable.</param>
/// <param name="name">Its name for messages.</param>
public sealed class BerkeleyDbReader(Stream file, string name)
{
    public const uint BtreeMagic = 0x053162;

    private const uint HashMagic = 0x061561;
    private const uint QueueMagic = 0x042253;
    private const uint HeapMagic = 0x074582;
    private const int MetaSize = 512;
    private const int PageHeaderSize = 26;

    // Page types (db_page.h).
    private const byte InternalPage = 3;
    private const byte LeafPage = 5;
    private const byte OverflowPage = 7;
    private const byte BtreeMetaPage = 9;

    // Item types on B-tree pages; the top bit marks an item deleted but still on the page.
    private const byte KeyData = 1;
    private const byte Duplicate = 2;
    private const byte Overflow = 3;
    private const byte Deleted = 0x80;

    // B-tree metadata flags that postgrey never sets and that change what the pages mean.
    private const uint RecnoFlag = 0x002;
    private const uint SubdatabasesFlag = 0x020;
    private const uint CompressedFlag = 0x080;

    private readonly Stream _file = file;
    private readonly string _name = name;
    private bool _swapped;
    private int _pageSize;
    private int _overhead;
    private long _pageCount;

    /// <summary>True when the first 16 bytes carry a Berkeley DB magic number in either byte order.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> head)
    {
        if (head.Length < 16)
        {
            return false;
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(head[12..]);
        uint swapped = BinaryPrimitives.ReverseEndianness(magic);
        return magic is BtreeMagic or HashMagic or QueueMagic or HeapMagic
            || swapped is BtreeMagic or HashMagic or QueueMagic or HeapMagic;
    }

    /// <summary>The file's page size, known once <see cref="ReadEntries"/> has read the metadata page.</summary>
    public int PageSize => _pageSize;

    /// <summary>True when the file was written on a machine of the other byte order.</summary>
    public bool IsByteSwapped => _swapped;

    /// <summary>
    /// The key and value pairs in key order. Throws <see cref="PostgreyImportException"/> for a file that is not a
    /// readable B-tree or is damaged, after the pairs before the damage have been returned.
    /// </summary>
    public IEnumerable<PostgreyEntry> ReadEntries()
    {
        uint root = ReadMeta();
        var seen = new HashSet<uint>();
        var pending = new Stack<(uint Page, int Level)>();
        pending.Push((root, 0));
        seen.Add(root);
        var page = new byte[_pageSize];
        uint previousLeaf = 0;
        uint previousNext = 0;
        while (pending.Count > 0)
        {
            var (number, level) = pending.Pop();
            ReadPage(number, page);
            byte type = page[25];
            int pageLevel = page[24];
            if (level != 0 && pageLevel != level)
            {
                throw Damaged(number, $"is at level {pageLevel} of the tree, below a page at level {level + 1}");
            }

            if (type == InternalPage && pageLevel > 1)
            {
                PushChildren(number, page, pageLevel - 1, pending, seen);
                continue;
            }

            if (type != LeafPage || pageLevel != 1)
            {
                throw Damaged(number, $"has page type {type} at level {pageLevel} where a B-tree page belongs");
            }

            // Leaves are chained left to right; the chain must agree with the order the tree gives them.
            if (U32(page, 12) != previousLeaf || (previousLeaf != 0 && previousNext != number))
            {
                throw Damaged(number, previousLeaf == 0 ? "is the first leaf of the tree but links back to another" : $"follows leaf page {previousLeaf} in the tree, but the two are not linked");
            }

            previousLeaf = number;
            previousNext = U32(page, 16);
            foreach (var entry in LeafEntries(number, page))
            {
                yield return entry;
            }
        }

        if (previousNext != 0)
        {
            throw Damaged(previousLeaf, $"links to page {previousNext} after the last leaf of the tree");
        }
    }

    /// <summary>Checks the metadata page and returns the root page number.</summary>
    private uint ReadMeta()
    {
        var meta = new byte[MetaSize];
        _file.Position = 0;
        if (_file.ReadAtLeast(meta, MetaSize, throwOnEndOfStream: false) < MetaSize)
        {
            throw Error($"is {_file.Length} bytes long: too short for a Berkeley DB file");
        }

        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(meta.AsSpan(12));
        _swapped = magic != BtreeMagic && BinaryPrimitives.ReverseEndianness(magic) == BtreeMagic;
        magic = U32(meta, 12);
        if (magic != BtreeMagic)
        {
            string kind = magic switch
            {
                HashMagic => "a Berkeley DB hash database",
                QueueMagic => "a Berkeley DB queue database",
                HeapMagic => "a Berkeley DB heap database",
                _ => "not a Berkeley DB file",
            };
            throw Error($"is {kind}; postgrey's databases are B-trees");
        }

        uint version = U32(meta, 16);
        if (version is < 8 or > 10)
        {
            throw Error($"is a B-tree of version {version}; greyd reads versions 8 to 10");
        }

        uint pageSize = U32(meta, 20);
        if (pageSize is < 512 or > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            throw Error($"claims a page size of {pageSize}: the file is damaged");
        }

        if (meta[24] != 0)
        {
            throw Error("is encrypted; dump it with db_dump -P and import the dump");
        }

        if (meta[25] != BtreeMetaPage)
        {
            throw Error($"has page type {meta[25]} on its metadata page: the file is damaged");
        }

        uint flags = U32(meta, 48);
        if ((flags & RecnoFlag) != 0)
        {
            throw Error("is a Recno database; postgrey's databases are B-trees");
        }

        if ((flags & SubdatabasesFlag) != 0)
        {
            throw Error("holds subdatabases; postgrey's files have none");
        }

        if ((flags & CompressedFlag) != 0)
        {
            throw Error("is a compressed B-tree; dump it with db_dump and import the dump");
        }

        _pageSize = (int)pageSize;
        // With checksums the index starts after 2 bytes of padding and a 4-byte checksum (PG_CHKSUM).
        _overhead = (meta[26] & 1) != 0 ? PageHeaderSize + 6 : PageHeaderSize;
        _pageCount = _file.Length / _pageSize;
        uint root = U32(meta, 88);
        if (root == 0)
        {
            throw Error("names page 0 as its root: the file is damaged");
        }

        return root;
    }

    private void PushChildren(uint number, byte[] page, int childLevel, Stack<(uint Page, int Level)> pending, HashSet<uint> seen)
    {
        int entries = Entries(number, page);
        if (entries == 0)
        {
            throw Damaged(number, "is an internal page without entries");
        }

        // Pushed right to left so that the leftmost child is read first.
        for (int i = entries - 1; i >= 0; i--)
        {
            int offset = ItemOffset(number, page, i, 12);
            uint child = U32(page, offset + 4);
            if (!seen.Add(child))
            {
                throw Damaged(number, $"points to page {child}, which the tree has already reached");
            }

            pending.Push((child, childLevel));
        }
    }

    private IEnumerable<PostgreyEntry> LeafEntries(uint number, byte[] page)
    {
        int entries = Entries(number, page);
        if (entries % 2 != 0)
        {
            throw Damaged(number, $"is a leaf page with an odd number of items ({entries})");
        }

        string location = $"{_name} page {number}";
        int previousKeyOffset = -1;
        byte[]? previousKey = null;
        for (int i = 0; i < entries; i += 2)
        {
            int keyOffset = ItemOffset(number, page, i, 3);
            int dataOffset = ItemOffset(number, page, i + 1, 3);
            byte keyType = page[keyOffset + 2];
            byte dataType = page[dataOffset + 2];
            if (((keyType | dataType) & Deleted) != 0)
            {
                continue; // deleted, still on the page until the page is next rewritten
            }

            // An on-page duplicate repeats the key's index entry; its values follow the first one.
            bool onPageDuplicate = keyOffset == previousKeyOffset;
            previousKeyOffset = keyOffset;
            byte[] key = onPageDuplicate && previousKey is not null ? previousKey : Item(number, page, keyOffset, keyType, "key");
            previousKey = key;
            if ((dataType & ~Deleted) == Duplicate)
            {
                yield return new PostgreyEntry(key, [], location, IsDuplicate: true);
                continue;
            }

            yield return new PostgreyEntry(key, Item(number, page, dataOffset, dataType, "value"), location, onPageDuplicate);
        }
    }

    private byte[] Item(uint number, byte[] page, int offset, byte type, string what)
    {
        switch (type & ~Deleted)
        {
            case KeyData:
                int length = U16(page, offset);
                if (offset + 3 + length > _pageSize)
                {
                    throw Damaged(number, $"has a {what} of {length} bytes that runs past the page");
                }

                return page.AsSpan(offset + 3, length).ToArray();
            case Overflow:
                if (offset + 12 > _pageSize)
                {
                    throw Damaged(number, $"has an overflow {what} that runs past the page");
                }

                return ReadOverflow(number, U32(page, offset + 4), U32(page, offset + 8));
            default:
                throw Damaged(number, $"has a {what} of unknown type {type}");
        }
    }

    /// <summary>Reads an item kept on a chain of overflow pages.</summary>
    private byte[] ReadOverflow(uint from, uint first, uint totalLength)
    {
        if (totalLength > _pageCount * (_pageSize - _overhead))
        {
            throw Damaged(from, $"has an overflow item of {totalLength} bytes, more than the file holds");
        }

        var item = new byte[totalLength];
        var page = new byte[_pageSize];
        int filled = 0;
        uint number = first;
        long pages = 0;
        while (filled < item.Length)
        {
            // The chain can hold no more pages than the file: one more means it loops.
            if (number == 0 || ++pages > _pageCount)
            {
                throw Damaged(from, $"has an overflow item whose page chain ends after {filled} of its {totalLength} bytes");
            }

            ReadPage(number, page);
            if (page[25] != OverflowPage)
            {
                throw Damaged(number, $"has page type {page[25]} inside the overflow chain from page {from}");
            }

            int length = U16(page, 22); // an overflow page keeps its data length where others keep the free offset
            if (_overhead + length > _pageSize || filled + length > item.Length)
            {
                throw Damaged(number, $"holds {length} overflow bytes, more than fit");
            }

            page.AsSpan(_overhead, length).CopyTo(item.AsSpan(filled));
            filled += length;
            number = U32(page, 16);
        }

        return item;
    }

    private int Entries(uint number, byte[] page)
    {
        int entries = U16(page, 20);
        if (_overhead + (2 * entries) > _pageSize)
        {
            throw Damaged(number, $"claims {entries} items, more than fit");
        }

        return entries;
    }

    /// <summary>The offset of item <paramref name="index"/>, checked to lie past the index with room for its header.</summary>
    private int ItemOffset(uint number, byte[] page, int index, int headerSize)
    {
        int offset = U16(page, _overhead + (2 * index));
        if (offset < _overhead + (2 * U16(page, 20)) || offset + headerSize > _pageSize)
        {
            throw Damaged(number, $"has item {index} at offset {offset}, outside the page's item area");
        }

        return offset;
    }

    private void ReadPage(uint number, byte[] page)
    {
        if (number >= _pageCount)
        {
            throw Error($"is cut short or damaged: page {number} is needed but the file ends after {_pageCount} pages ({_file.Length} bytes)");
        }

        _file.Position = (long)number * _pageSize;
        _file.ReadExactly(page);
        if (U32(page, 8) != number)
        {
            throw Damaged(number, $"calls itself page {U32(page, 8)}");
        }
    }

    private uint U32(byte[] bytes, int offset)
    {
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    private int U16(byte[] bytes, int offset)
    {
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }

    private PostgreyImportException Damaged(uint page, string what) =>
        new($"{_name} is damaged: page {page} {what}; db_dump -r may salvage what is left");

    private PostgreyImportException Error(string what) => new($"{_name} {what}");
}
