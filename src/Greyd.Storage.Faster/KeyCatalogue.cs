using System.Buffers;
using System.Buffers.Binary;
using System.Collections;
using Microsoft.Win32.SafeHandles;

namespace Greyd.Storage.Faster;

/// <summary>
/// DIR/catalogue: postgrey's key bytes behind each record's digest, recorded when a record is created or imported,
/// so that a listing can show keys. It is only for display, so it is cheap and never in the way: names are buffered
/// and written by the journal's sync loop without an fsync (a crash loses the last second or so of them, and those
/// records list without a key), and a failed write is logged and forgotten. A damaged file is no error either: an
/// entry that does not check is skipped and reading goes on at the next one. The sweep rewrites the file with the
/// names of live records only.
/// An entry is the magic "GRDK", the domain ('t' or 'c'), the key's length (2 bytes), the key, and a CRC-32 of
/// domain, length and key. The digest is computed again from the key when the file is read, so an entry can never
/// name another key's record, whatever the secret.
/// </summary>
internal sealed class KeyCatalogue(string directory, RateLimitedLog faults) : IDisposable
{
    public const string FileName = "catalogue";
    /// <summary>The bytes of an entry besides its key: magic, domain, length before it, CRC after it.</summary>
    public const int Overhead = Header + 4;

    /// <summary>Where an entry's key starts.</summary>
    public const int Header = 7;
    private const uint Magic = 0x4B445247; // "GRDK"
    private const int MaxPending = 4 << 20;

    private readonly string _path = Path.Combine(directory, FileName);
    private readonly Lock _pendingGate = new();
    private readonly Lock _fileGate = new();
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _spare = new(4096);
    private FileStream? _appender;
    private bool _dropped;

    /// <summary>Buffers the name of a record; written at the next <see cref="Flush"/>. Keys of 64 KiB and more are not kept.</summary>
    public void Add(byte domain, ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > ushort.MaxValue)
        {
            return;
        }

        lock (_pendingGate)
        {
            if (_pending.WrittenCount + Overhead + key.Length > MaxPending)
            {
                // Writes keep failing: names are dropped rather than held in memory without bound.
                _dropped = true;
                return;
            }

            Encode(domain, key, _pending.GetSpan(Overhead + key.Length));
            _pending.Advance(Overhead + key.Length);
        }
    }

    /// <summary>Writes the buffered names to the file (no fsync). Never throws: a failure is logged and the names are lost.</summary>
    public void Flush()
    {
        lock (_fileGate)
        {
            FlushLocked();
        }
    }

    /// <summary>Writes the buffered names, then answers the file's length: names past it were buffered later.</summary>
    public long FlushedLength()
    {
        lock (_fileGate)
        {
            FlushLocked();
            try
            {
                return File.Exists(_path) ? new FileInfo(_path).Length : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return long.MaxValue; // cannot tell: the compaction then keeps every name
            }
        }
    }

    /// <summary>The names known now, for one listing; null when there is no catalogue to read.</summary>
    public CatalogueNames? OpenNames(byte[] secret)
    {
        lock (_fileGate)
        {
            FlushLocked();
            try
            {
                var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                return new CatalogueNames(this, handle, secret);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (e is not FileNotFoundException)
                {
                    faults.Write($"store: cannot read {_path}, records are listed without their keys: {e.Message}");
                }

                return null;
            }
        }
    }

    /// <summary>
    /// Rewrites the file with one name per live digest (<paramref name="live"/>, sorted), keeping every name written
    /// from <paramref name="keepFrom"/> on (records created while the live set was taken).
    /// </summary>
    public void Compact(byte[] secret, UInt128[] live, long keepFrom)
    {
        string temp = _path + ".tmp";
        lock (_fileGate)
        {
            FlushLocked();
            _appender?.Dispose();
            _appender = null;
            try
            {
                if (!File.Exists(_path))
                {
                    return;
                }

                var written = new BitArray(live.Length);
                using (var handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                using (var output = new FileStream(temp, CreateOptions(FileMode.Create)))
                {
                    byte[] entry = new byte[Overhead + ushort.MaxValue];
                    foreach (var (position, domain, key) in Entries(handle, 0))
                    {
                        if (position < keepFrom)
                        {
                            int i = Array.BinarySearch(live, Digest(secret, domain, key.Span));
                            if (i < 0 || written[i])
                            {
                                continue;
                            }

                            written[i] = true;
                        }

                        Encode(domain, key.Span, entry);
                        output.Write(entry, 0, Overhead + key.Length);
                    }

                    output.Flush(flushToDisk: true);
                }

                File.Move(temp, _path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                faults.Write($"store: cannot rewrite {_path}, it keeps the names of expired records until the next sweep: {e.Message}");
                try
                {
                    File.Delete(temp);
                }
                catch (Exception again) when (again is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_fileGate)
        {
            FlushLocked();
            _appender?.Dispose();
            _appender = null;
        }
    }

    /// <summary>The digest a catalogue entry names, as a sortable number.</summary>
    public static UInt128 Digest(byte[] secret, byte domain, ReadOnlySpan<byte> key) => Number(StoreKey.Compute(secret, domain, key));

    public static UInt128 Number(in StoreKey key) => new(key.Hi, key.Lo);

    /// <summary>
    /// The good entries of the file from <paramref name="from"/> on: each entry's offset, domain and key (valid until
    /// the next one is read). Damage is skipped byte by byte until an entry checks again.
    /// </summary>
    public static IEnumerable<(long Position, byte Domain, ReadOnlyMemory<byte> Key)> Entries(SafeFileHandle handle, long from)
    {
        // The whole rest of the file when it is small; else 1 MiB, room for the largest entry many times over.
        long rest = RandomAccess.GetLength(handle) - from;
        byte[] buffer = new byte[rest <= 1 << 20 ? Math.Max((int)rest, Overhead) : 1 << 20];
        long bufferStart = from;
        int filled = 0;
        int at = 0;
        bool end = false;
        while (true)
        {
            if (!end && filled - at < Overhead + ushort.MaxValue)
            {
                // Keep what is left at the front and read on, so an entry never straddles the buffer's end.
                Buffer.BlockCopy(buffer, at, buffer, 0, filled - at);
                bufferStart += at;
                filled -= at;
                at = 0;
                while (filled < buffer.Length && !end)
                {
                    int read = RandomAccess.Read(handle, buffer.AsSpan(filled), bufferStart + filled);
                    filled += read;
                    end = read == 0;
                }
            }

            if (filled - at < Overhead)
            {
                yield break;
            }

            if (TryDecode(buffer.AsSpan(at, filled - at), out byte domain, out int length))
            {
                yield return (bufferStart + at, domain, buffer.AsMemory(at + Header, length));
                at += Overhead + length;
            }
            else
            {
                at++;
            }
        }
    }

    private static void Encode(byte domain, ReadOnlySpan<byte> key, Span<byte> entry)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(entry, Magic);
        entry[4] = domain;
        BinaryPrimitives.WriteUInt16LittleEndian(entry[5..], (ushort)key.Length);
        key.CopyTo(entry[Header..]);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[(Header + key.Length)..], Crc32.Compute(entry[4..(Header + key.Length)]));
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out byte domain, out int length)
    {
        domain = bytes[4];
        length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[5..]);
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes) == Magic
            && domain is StoreKey.TripletDomain or StoreKey.ClientDomain
            && length > 0
            && bytes.Length >= Overhead + length
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes[(Header + length)..]) == Crc32.Compute(bytes[4..(Header + length)]);
    }

    private static FileStreamOptions CreateOptions(FileMode mode) => new()
    {
        Mode = mode,
        Access = FileAccess.Write,
        Share = FileShare.Read,
        BufferSize = 0,
        UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
    };

    // Called under _fileGate. The buffers are swapped under their own lock, so requests never wait on the disk.
    private void FlushLocked()
    {
        ArrayBufferWriter<byte> batch;
        bool dropped;
        lock (_pendingGate)
        {
            if (_pending.WrittenCount == 0 && !_dropped)
            {
                return;
            }

            batch = _pending;
            _pending = _spare;
            _spare = batch;
            dropped = _dropped;
            _dropped = false;
        }

        try
        {
            _appender ??= new FileStream(_path, CreateOptions(FileMode.Append));
            _appender.Write(batch.WrittenSpan);
            if (dropped)
            {
                faults.Write($"store: names of new records were dropped while {_path} could not be written; they are listed without their keys");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            faults.Write($"store: cannot write {_path}, new records are listed without their keys: {e.Message}");
            _appender?.Dispose();
            _appender = null;
        }
        finally
        {
            batch.ResetWrittenCount();
        }
    }
}
