using System.Buffers;

namespace Greyd.Protocol;

/// <summary>Writes the one reply Postfix accepts: <c>action=...</c> and an empty line, LF only.</summary>
public static class PolicyResponse
{
    public static ReadOnlySpan<byte> Dunno => "action=DUNNO\n\n"u8;

    /// <summary>Writes <c>action=&lt;action&gt;\n\n</c>; the action must not contain a line break.</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> action)
    {
        var span = output.GetSpan(action.Length + 9);
        "action="u8.CopyTo(span);
        action.CopyTo(span[7..]);
        span[7 + action.Length] = (byte)'\n';
        span[8 + action.Length] = (byte)'\n';
        output.Advance(action.Length + 9);
    }
}
