using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Greyd.Storage.Faster;

/// <summary>
/// greyd's write-ahead journal: FASTER checkpoints lose everything after the last checkpoint, so every change is
/// also appended here (one write syscall, before the request is answered) and replayed on open.
/// A record is 48 bytes: magic, CRC-32 of the rest, key, A, B, value check.
/// </summary>
internal sealed class Journal : IDisposable
{
    public const int RecordSize = 48;
    private const uint Magic = 0x4A445247; // "GRDJ"

    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private long _offset;
    private long _unsynced;

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
            Access = FileAccess.Write,
            Share = FileShare.Read,
            BufferSize = 0,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        long length = RandomAccess.GetLength(stream.SafeFileHandle);
        return new Journal(path, seq, stream, length - (length % RecordSize));
    }

    /// <summary>Appends one record with a single write; the bytes reach the page cache before this returns.</summary>
    public void Append(in StoreKey key, in StoreValue value)
    {
        Span<byte> record = stackalloc byte[RecordSize];
        Encode(key, value, record);
        RandomAccess.Write(_handle, record, _offset);
        _offset += RecordSize;
        Interlocked.Exchange(ref _unsynced, 1);
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

    public void Dispose() => _stream.Dispose();

    /// <summary>
    /// Reads the records of one journal file in order; stops at the first torn or damaged record and reports
    /// its offset in <paramref name="badOffset"/> (-1 when the whole file is good).
    /// </summary>
    public static List<(StoreKey Key, StoreValue Value)> Read(string path, out long badOffset)
    {
        badOffset = -1;
        byte[] bytes = File.ReadAllBytes(path);
        var records = new List<(StoreKey, StoreValue)>(bytes.Length / RecordSize);
        int offset = 0;
        for (; offset + RecordSize <= bytes.Length; offset += RecordSize)
        {
            if (!TryDecode(bytes.AsSpan(offset, RecordSize), out var key, out var value))
            {
                badOffset = offset;
                return records;
            }

            records.Add((key, value));
        }

        if (offset != bytes.Length)
        {
            badOffset = offset;
        }

        return records;
    }

    private static void Encode(in StoreKey key, in StoreValue value, Span<byte> record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, Magic);
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
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Magic
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
