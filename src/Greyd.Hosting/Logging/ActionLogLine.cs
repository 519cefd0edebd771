using System.Buffers;
using Greyd.Protocol;

namespace Greyd.Hosting.Logging;

/// <summary>
/// postgrey's decision line, byte for byte:
/// <c>[queue_id: ]action=A, reason=R[, extra][, client_name=v][, client_address=v][, sender=v][, recipient=v]</c>,
/// each trailing field only when it is neither empty nor "0", values escaped by <see cref="LogEscaper"/>.
/// </summary>
public static class ActionLogLine
{
    /// <summary>Room for four 512-byte values escaped at three bytes each, plus the fixed text.</summary>
    public const int MaxLength = 8192;

    public static int Write(Span<byte> destination, PolicyRequest request, ReadOnlySpan<byte> action, ReadOnlySpan<byte> reason, ReadOnlySpan<byte> extra)
    {
        int n = 0;
        var queueId = request.Get(PolicyAttribute.QueueId);
        if (!queueId.IsEmpty)
        {
            n += LogEscaper.Escape(queueId, destination[n..]);
            n += Append(destination[n..], ": "u8);
        }

        n += Append(destination[n..], "action="u8);
        n += Append(destination[n..], action);
        n += Append(destination[n..], ", reason="u8);
        n += Append(destination[n..], reason);
        if (!extra.IsEmpty)
        {
            n += Append(destination[n..], ", "u8);
            n += Append(destination[n..], extra);
        }

        n += Field(destination[n..], ", client_name="u8, request.Get(PolicyAttribute.ClientName));
        n += Field(destination[n..], ", client_address="u8, request.Get(PolicyAttribute.ClientAddress));
        n += Field(destination[n..], ", sender="u8, request.Get(PolicyAttribute.Sender));
        n += Field(destination[n..], ", recipient="u8, request.Get(PolicyAttribute.Recipient));
        return n;
    }

    // Perl truth: an empty value and "0" are left out.
    private static int Field(Span<byte> destination, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.SequenceEqual("0"u8))
        {
            return 0;
        }

        int n = Append(destination, name);
        return n + LogEscaper.Escape(value, destination[n..]);
    }

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> text)
    {
        int length = Math.Min(text.Length, destination.Length);
        text[..length].CopyTo(destination);
        return length;
    }
}
