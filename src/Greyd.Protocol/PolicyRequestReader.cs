using System.Buffers;

namespace Greyd.Protocol;

/// <summary>
/// Reads Postfix policy delegation requests (name=value lines ended by an empty line) from a byte sequence.
/// Incomplete input consumes nothing, so the caller can wait for more bytes and call again.
/// </summary>
public static class PolicyRequestReader
{
    /// <summary>A request larger than this closes the connection; Postfix sends well under 4 KiB.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private const byte ByteLF = (byte)'\n';
    private const byte ByteCR = (byte)'\r';
    private const byte ByteEquals = (byte)'=';

    /// <summary>
    /// Tries to read one whole request. Returns false, leaving <paramref name="reader"/> where it was, when the
    /// empty line has not arrived yet. Throws <see cref="PolicyProtocolException"/> for input that must close the
    /// connection.
    /// </summary>
    public static bool TryRead(ref SequenceReader<byte> reader, PolicyRequest request)
    {
        var start = reader;
        request.Reset();
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, ByteLF))
        {
            if (reader.Consumed - start.Consumed > MaxRequestBytes)
            {
                PolicyProtocolException.ThrowRequestTooLarge(MaxRequestBytes);
            }

            if (line.IsSingleSegment)
            {
                if (ReadLine(line.FirstSpan, request))
                {
                    return true;
                }
            }
            else if (ReadSplitLine(line, request))
            {
                return true;
            }
        }

        // Incomplete: a client that keeps sending without an empty line must not grow our buffer for ever.
        if (reader.Remaining > MaxRequestBytes || reader.Consumed - start.Consumed + reader.Remaining > MaxRequestBytes)
        {
            PolicyProtocolException.ThrowRequestTooLarge(MaxRequestBytes);
        }

        reader = start;
        return false;
    }

    // A line that straddles buffer segments is copied once; such lines are rare and bounded by the request limit.
    private static bool ReadSplitLine(ReadOnlySequence<byte> line, PolicyRequest request)
    {
        int length = (int)line.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            line.CopyTo(rented);
            return ReadLine(rented.AsSpan(0, length), request);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Reads one line without its LF; returns true when it is the empty line that ends the request.</summary>
    private static bool ReadLine(ReadOnlySpan<byte> line, PolicyRequest request)
    {
        if (!line.IsEmpty && line[^1] == ByteCR)
        {
            line = line[..^1];
        }

        if (line.IsEmpty)
        {
            return true;
        }

        if (line.Contains((byte)0))
        {
            PolicyProtocolException.ThrowNulByte();
        }

        // postgrey's pattern finds the first run of non-'=' bytes followed by '=', so leading '=' are skipped.
        int nameStart = 0;
        while (nameStart < line.Length && line[nameStart] == ByteEquals)
        {
            nameStart++;
        }

        int eq = line[nameStart..].IndexOf(ByteEquals);
        if (eq <= 0)
        {
            request.AddGarbage(line);
            return false;
        }

        var name = line.Slice(nameStart, eq);
        var value = line[(nameStart + eq + 1)..];
        if (TryGetAttribute(name, out var attribute))
        {
            request.Set(attribute, value);
        }

        return false;
    }

    private static bool TryGetAttribute(ReadOnlySpan<byte> name, out PolicyAttribute attribute)
    {
        switch (name.Length)
        {
            case 6 when name.SequenceEqual("sender"u8):
                attribute = PolicyAttribute.Sender;
                return true;
            case 7 when name.SequenceEqual("request"u8):
                attribute = PolicyAttribute.Request;
                return true;
            case 8 when name.SequenceEqual("instance"u8):
                attribute = PolicyAttribute.Instance;
                return true;
            case 8 when name.SequenceEqual("queue_id"u8):
                attribute = PolicyAttribute.QueueId;
                return true;
            case 9 when name.SequenceEqual("helo_name"u8):
                attribute = PolicyAttribute.HeloName;
                return true;
            case 9 when name.SequenceEqual("recipient"u8):
                attribute = PolicyAttribute.Recipient;
                return true;
            case 11 when name.SequenceEqual("client_name"u8):
                attribute = PolicyAttribute.ClientName;
                return true;
            case 11 when name.SequenceEqual("etrn_domain"u8):
                attribute = PolicyAttribute.EtrnDomain;
                return true;
            case 14 when name.SequenceEqual("client_address"u8):
                attribute = PolicyAttribute.ClientAddress;
                return true;
            case 16 when name.SequenceEqual("policy_test_time"u8):
                attribute = PolicyAttribute.PolicyTestTime;
                return true;
            default:
                attribute = default;
                return false;
        }
    }
}
