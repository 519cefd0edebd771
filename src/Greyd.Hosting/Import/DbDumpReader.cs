using System.Text;

namespace Greyd.Hosting.Import;

/// <summary>
/// Reads the text that <c>db_dump</c> writes: a header up to <c>HEADER=END</c>, then key and value lines, each
/// after one blank, up to <c>DATA=END</c>. Values are <c>format=print</c> (printable bytes as they are, <c>\\</c>,
/// <c>\hh</c>) or <c>format=bytevalue</c> (hex). Several dumps one after the other are read as one; a dump of named
/// subdatabases is refused, since postgrey's files have none.
/// </summary>
/// <param name="input">The dump text.</param>
/// <param name="name">Its name for messages.</param>
public sealed class DbDumpReader(Stream input, string name)
{
    /// <summary>A postgrey key is at most about 1,100 bytes (2,200 in hex); a longer line is not a dump.</summary>
    private const int MaxLineLength = 1 << 20;

    private readonly Stream _input = input;
    private readonly string _name = name;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private byte[] _line = new byte[4096];
    private int _lineLength;
    private int _bufferStart;
    private int _bufferEnd;
    private int _lineNumber;

    /// <summary>How many dumps (header and data) have been read so far.</summary>
    public int Databases { get; private set; }

    /// <summary>
    /// The key and value pairs in file order. Throws <see cref="PostgreyImportException"/> at the first malformed
    /// line, after the pairs before it have been returned.
    /// </summary>
    public IEnumerable<PostgreyEntry> ReadEntries()
    {
        while (true)
        {
            if (!ReadLine())
            {
                if (Databases == 0)
                {
                    throw Error("holds no dump (it is empty)");
                }

                yield break;
            }

            if (_lineLength == 0)
            {
                continue; // blank lines between two dumps one after the other
            }

            bool print = ReadHeader();
            Databases++;
            byte[]? key = null;
            int keyLine = 0;
            while (true)
            {
                if (!ReadLine())
                {
                    throw Error($"ends at line {_lineNumber} without DATA=END: the dump is cut short");
                }

                var line = _line.AsSpan(0, _lineLength);
                if (line.SequenceEqual("DATA=END"u8))
                {
                    if (key is not null)
                    {
                        throw LineError("DATA=END follows a key without its value");
                    }

                    break;
                }

                if (line.IsEmpty || line[0] != (byte)' ')
                {
                    throw LineError("expected a key or value line starting with a blank, or DATA=END");
                }

                byte[] bytes = print ? DecodePrint(line[1..]) : DecodeHex(line[1..]);
                if (key is null)
                {
                    key = bytes;
                    keyLine = _lineNumber;
                }
                else
                {
                    yield return new PostgreyEntry(key, bytes, $"{_name} line {keyLine}");
                    key = null;
                }
            }
        }
    }

    /// <summary>Reads the header from its VERSION= line to HEADER=END; true for format=print.</summary>
    private bool ReadHeader()
    {
        var first = _line.AsSpan(0, _lineLength);
        if (!first.StartsWith("VERSION="u8))
        {
            throw LineError("expected VERSION=3, the start of a db_dump header");
        }

        if (!first["VERSION="u8.Length..].SequenceEqual("3"u8))
        {
            throw LineError($"dump version {Text(first["VERSION="u8.Length..])}: greyd reads VERSION=3");
        }

        bool? print = null;
        while (true)
        {
            if (!ReadLine())
            {
                throw Error($"ends at line {_lineNumber} inside a header, without HEADER=END");
            }

            var line = _line.AsSpan(0, _lineLength);
            if (line.SequenceEqual("HEADER=END"u8))
            {
                return print ?? throw LineError("the header has no format= line");
            }

            int equals = line.IndexOf((byte)'=');
            if (equals <= 0)
            {
                throw LineError("expected a header line name=value, or HEADER=END");
            }

            var name = line[..equals];
            var value = line[(equals + 1)..];
            if (name.SequenceEqual("format"u8))
            {
                print = value.SequenceEqual("print"u8) ? true
                    : value.SequenceEqual("bytevalue"u8) ? false
                    : throw LineError($"format {Text(value)}: expected print or bytevalue");
            }
            else if (name.SequenceEqual("type"u8))
            {
                // A hash database holds the same key and value bytes; recno and queue keys are record numbers.
                if (!value.SequenceEqual("btree"u8) && !value.SequenceEqual("hash"u8))
                {
                    throw LineError($"a {Text(value)} database: postgrey's are btree");
                }
            }
            else if (name.SequenceEqual("database"u8) || name.SequenceEqual("subdatabase"u8))
            {
                throw LineError($"the subdatabase '{Text(value)}': postgrey's files have none; dump postgrey.db and postgrey_clients.db each on its own");
            }
        }
    }

    private byte[] DecodePrint(ReadOnlySpan<byte> text)
    {
        var bytes = new byte[text.Length];
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b != (byte)'\\')
            {
                bytes[n++] = b;
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == (byte)'\\')
            {
                bytes[n++] = (byte)'\\';
                i++;
                continue;
            }

            int high = i + 2 < text.Length ? HexValue(text[i + 1]) : -1;
            int low = high >= 0 ? HexValue(text[i + 2]) : -1;
            if (low < 0)
            {
                throw LineError($"a backslash at column {i + 2} starts no escape (\\\\ or \\ and two hex digits)");
            }

            bytes[n++] = (byte)((high << 4) | low);
            i += 2;
        }

        return bytes[..n];
    }

    private byte[] DecodeHex(ReadOnlySpan<byte> text)
    {
        if (text.Length % 2 != 0)
        {
            throw LineError("an odd number of hex digits");
        }

        var bytes = new byte[text.Length / 2];
        for (int i = 0; i < bytes.Length; i++)
        {
            int high = HexValue(text[2 * i]);
            int low = HexValue(text[(2 * i) + 1]);
            if (high < 0 || low < 0)
            {
                throw LineError($"column {(2 * i) + 2} is not a hex digit pair (format=bytevalue)");
            }

            bytes[i] = (byte)((high << 4) | low);
        }

        return bytes;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>Reads the next line without its newline (and a CR before it) into <see cref="_line"/>.</summary>
    private bool ReadLine()
    {
        _lineLength = 0;
        bool any = false;
        while (true)
        {
            if (_bufferStart == _bufferEnd)
            {
                _bufferStart = 0;
                _bufferEnd = _input.Read(_buffer, 0, _buffer.Length);
                if (_bufferEnd == 0)
                {
                    if (!any)
                    {
                        return false;
                    }

                    break;
                }
            }

            any = true;
            var available = _buffer.AsSpan(_bufferStart, _bufferEnd - _bufferStart);
            int newline = available.IndexOf((byte)'\n');
            var part = newline >= 0 ? available[..newline] : available;
            Append(part);
            _bufferStart += part.Length;
            if (newline >= 0)
            {
                _bufferStart++;
                break;
            }
        }

        _lineNumber++;
        if (_lineLength > 0 && _line[_lineLength - 1] == (byte)'\r')
        {
            _lineLength--; // a dump that went through a CRLF editor; db_dump escapes a real CR
        }

        return true;
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        if (_lineLength + part.Length > MaxLineLength)
        {
            throw Error($"line {_lineNumber + 1} is longer than {MaxLineLength} bytes: not a db_dump text");
        }

        if (_lineLength + part.Length > _line.Length)
        {
            Array.Resize(ref _line, Math.Max(_line.Length * 2, _lineLength + part.Length));
        }

        part.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += part.Length;
    }

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 40)]);

    private PostgreyImportException LineError(string what) => new($"{_name} line {_lineNumber}: {what}");

    private PostgreyImportException Error(string what) => new($"{_name} {what}");
}
