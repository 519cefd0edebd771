using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Greyd.Storage.Faster;

/// <summary>
/// greyd's write-ahead journal: FASTER checkpoints lose everything after the last checkpoint, so every change is
/// also appended here (into the page cache, before the request is answered) and replayed on open.
/// A record is 48 bytes: magic, CRC-32 of the rest, key, A, B, value check. The magic tells a change (the key's new
/// record) from a deletion (fields zero); journals from before deletions hold changes only and read as ever.
/// On Linux the file is written through a shared mapping of one window at a time, so an append is a copy
/// rather than a system call; each window's blocks are reserved first, so a full disk fails the reservation
/// (an IOException, as a failed write would) and never the copy. The zeros after the last record are not records.
/// </summary>
internal sealed unsafe class Journal : IDisposable
{
    public const int RecordSize = 48;
    public const long WindowSize = 2L << 20;
    private const uint Magic = 0x4A445247; // "GRDJ"
    private const uint DeleteMagic = 0x44445247; // "GRDD"

    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly bool _mapped = OperatingSystem.IsLinux();
    private long _offset;
    private long _unsynced;
    private byte* _window;
    private long _windowStart;
    private bool _disposed;

    private Journal(string path, long seq, FileStream stream, long offset)
    {
        Path = path;
        Seq = seq;
        _stream = stream;
        _handle = stream.SafeFileHandle;
        _offset = offset;
    }

    public string Path { get; }

    public long Seq { get; }

    /// <summary>True when bytes were written since the last fsync.</summary>
    public bool NeedsSync => Interlocked.Read(ref _unsynced) != 0;

    public static string FileName(long seq) => seq.ToString("D16", CultureInfo.InvariantCulture);

    /// <summary>Lists the journal files of <paramref name="directory"/> by sequence number.</summary>
    public static List<(long Seq, string Path)> List(string directory)
    {
        var files = new List<(long, string)>();
        if (!System.IO.Directory.Exists(directory))
        {
            return files;
        }

        foreach (string path in System.IO.Directory.EnumerateFiles(directory))
        {
            string name = System.IO.Path.GetFileName(path);
            if (name.Length == 16 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long seq))
            {
                files.Add((seq, path));
            }
        }

        files.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return files;
    }

    /// <summary>Creates journal file <paramref name="seq"/> (mode 0600); an existing one is appended to.</summary>
    public static Journal Create(string directory, long seq)
    {
        string path = System.IO.Path.Combine(directory, FileName(seq));
        // The stream only opens the file with mode 0600; all writes go through RandomAccess on its handle.
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite, // a shared writable mapping needs a descriptor open for reading too
            Share = FileShare.Read,
            BufferSize = 0,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        // An existing file is continued after its last good record (its tail may be reserved zeros).
        long length = RandomAccess.GetLength(stream.SafeFileHandle);
        long end = length == 0 ? 0 : End(File.ReadAllBytes(path), out _);
        return new Journal(path, seq, stream, end);
    }

    /// <summary>Appends one change; the bytes are in the page cache (they survive a crash of greyd) when this returns.</summary>
    public void Append(in StoreKey key, in StoreValue value) => Append(Magic, key, value);

    /// <summary>Appends the deletion of a key, as durably as <see cref="Append(in StoreKey, in StoreValue)"/>.</summary>
    public void AppendDelete(in StoreKey key) => Append(DeleteMagic, key, new StoreValue(key, 0, 0));

    private void Append(uint magic, in StoreKey key, in StoreValue value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_mapped)
        {
            if (_window == null || _offset + RecordSize > _windowStart + WindowSize)
            {
                MapWindowAt(_offset);
            }

            Encode(magic, key, value, new Span<byte>(_window + (_offset - _windowStart), RecordSize));
        }
        else
        {
            Span<byte> record = stackalloc byte[RecordSize];
            Encode(magic, key, value, record);
            RandomAccess.Write(_handle, record, _offset);
        }

        _offset += RecordSize;
        Interlocked.Exchange(ref _unsynced, 1);
    }

    // Reserves and maps the window holding `offset`; on failure the previous window stays as it was.
    private void MapWindowAt(long offset)
    {
        long start = offset & ~(Environment.SystemPageSize - 1L);
        Native.Reserve(_handle, start, WindowSize);
        nint address = Native.Map(_handle, start, WindowSize);
        if (_window != null)
        {
            Native.Unmap((nint)_window, WindowSize);
        }

        _window = (byte*)address;
        _windowStart = start;
    }

    /// <summary>
    /// fsync: after this a power loss keeps every record written so far. Returns the file length known durable
    /// (every record appended before the call).
    /// </summary>
    public long Sync()
    {
        Interlocked.Exchange(ref _unsynced, 0);
        long durable = Volatile.Read(ref _offset);
        Native.SyncFile(_handle);
        return durable;
    }

    /// <summary>Unmaps the file and cuts its reserved tail, so a closed journal is exactly its records.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_window != null)
        {
            Native.Unmap((nint)_window, WindowSize);
            _window = null;
            try
            {
                Native.Truncate(_handle, _offset);
            }
            catch (IOException)
            {
                // The zeros left behind read as the end of the journal.
            }
        }

        _stream.Dispose();
    }

    /// <summary>
    /// Reads the records of one journal file in order (<c>Deleted</c> for a deletion); stops at the first torn or
    /// damaged record and reports its offset in <paramref name="badOffset"/> (-1 when the whole file is good).
    /// </summary>
    public static List<(StoreKey Key, StoreValue Value, bool Deleted)> Read(string path, out long badOffset)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long end = End(bytes, out badOffset);
        var records = new List<(StoreKey, StoreValue, bool)>((int)(end / RecordSize));
        for (int offset = 0; offset < end; offset += RecordSize)
        {
            var record = bytes.AsSpan(offset, RecordSize);
            TryDecode(record, out var key, out var value);
            records.Add((key, value, BinaryPrimitives.ReadUInt32LittleEndian(record) == DeleteMagic));
        }

        return records;
    }

    /// <summary>
    /// Where the good records of a journal end. Zeros from there on are a clean end (reserved space never written);
    /// anything else there is a torn or damaged record, whose offset goes to <paramref name="badOffset"/> (else -1).
    /// </summary>
    private static long End(byte[] bytes, out long badOffset)
    {
        badOffset = -1;
        int offset = 0;
        while (offset + RecordSize <= bytes.Length && TryDecode(bytes.AsSpan(offset, RecordSize), out _, out _))
        {
            offset += RecordSize;
        }

        if (bytes.AsSpan(offset).ContainsAnyExcept((byte)0))
        {
            badOffset = offset;
        }

        return offset;
    }

    private static void Encode(uint magic, in StoreKey key, in StoreValue value, Span<byte> record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, magic);
        BinaryPrimitives.WriteUInt64LittleEndian(record[8..], key.Lo);
        BinaryPrimitives.WriteUInt64LittleEndian(record[16..], key.Hi);
        BinaryPrimitives.WriteInt64LittleEndian(record[24..], value.A);
        BinaryPrimitives.WriteInt64LittleEndian(record[32..], value.B);
        BinaryPrimitives.WriteUInt64LittleEndian(record[40..], value.Check);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32.Compute(record[8..]));
    }

    private static bool TryDecode(ReadOnlySpan<byte> record, out StoreKey key, out StoreValue value)
    {
        key = default;
        value = default;
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) is not (Magic or DeleteMagic)
            || BinaryPrimitives.ReadUInt32LittleEndian(record[4..]) != Crc32.Compute(record[8..]))
        {
            return false;
        }

        key = new StoreKey(BinaryPrimitives.ReadUInt64LittleEndian(record[8..]), BinaryPrimitives.ReadUInt64LittleEndian(record[16..]));
        value.A = BinaryPrimitives.ReadInt64LittleEndian(record[24..]);
        value.B = BinaryPrimitives.ReadInt64LittleEndian(record[32..]);
        value.Check = BinaryPrimitives.ReadUInt64LittleEndian(record[40..]);
        return value.Check == StoreValue.ComputeCheck(key, value.A, value.B);
    }
}
