namespace Greyd.Hosting.Logging;

/// <summary>
/// Escapes client data for the log as postgrey does on stderr: every byte outside printable ASCII becomes
/// <c>%XX</c> and <c>%</c> becomes <c>%%</c>, so no value can start a new log line and the escaping is reversible.
/// </summary>
public static class LogEscaper
{
    /// <summary>Writes the escaped text (at most three bytes per input byte) and returns its length.</summary>
    public static int Escape(ReadOnlySpan<byte> value, Span<byte> destination, bool doublePercent = true)
    {
        int n = 0;
        foreach (byte b in value)
        {
            if (n + 3 > destination.Length)
            {
                break;
            }

            if (b == (byte)'%' && doublePercent)
            {
                destination[n++] = (byte)'%';
                destination[n++] = (byte)'%';
            }
            else if (b is >= 0x20 and <= 0x7e)
            {
                destination[n++] = b;
            }
            else
            {
                destination[n++] = (byte)'%';
                destination[n++] = Hex(b >> 4);
                destination[n++] = Hex(b & 0xf);
            }
        }

        return n;
    }

    private static byte Hex(int value) => (byte)(value < 10 ? '0' + value : 'A' + value - 10);
}
