using System.Buffers;

namespace Greyd.Hosting.Logging;

/// <summary>
/// Escapes client data for the log as postgrey does on stderr: every byte outside printable ASCII becomes
/// <c>%XX</c> and <c>%</c> becomes <c>%%</c>, so no value can start a new log line and the escaping is reversible.
/// </summary>
public static class LogEscaper
{
    // Bytes that are not copied as they are; runs of other bytes are copied in one go.
    private static readonly SearchValues<byte> s_special = SearchValues.Create([.. Enumerable.Range(0, 256).Where(b => b is < 0x20 or > 0x7e or '%').Select(b => (byte)b)]);
    private static readonly SearchValues<byte> s_unprintable = SearchValues.Create([.. Enumerable.Range(0, 256).Where(b => b is < 0x20 or > 0x7e).Select(b => (byte)b)]);

    /// <summary>
    /// Writes the escaped text (at most three bytes per input byte) and returns its length. When the destination is
    /// too small the text is cut, as if written byte by byte while three bytes are still free.
    /// </summary>
    public static int Escape(ReadOnlySpan<byte> value, Span<byte> destination, bool doublePercent = true)
    {
        var special = doublePercent ? s_special : s_unprintable;
        int n = 0;
        while (!value.IsEmpty)
        {
            int plain = value.IndexOfAny(special);
            if (plain < 0)
            {
                plain = value.Length;
            }

            // A plain byte is written only while three bytes are free, so at most Length - 2 - n of them fit.
            int take = Math.Min(plain, Math.Max(0, destination.Length - 2 - n));
            value[..take].CopyTo(destination[n..]);
            n += take;
            if (take < plain || take == value.Length)
            {
                return n;
            }

            if (n + 3 > destination.Length)
            {
                return n;
            }

            byte b = value[take];
            value = value[(take + 1)..];
            destination[n++] = (byte)'%';
            if (b == (byte)'%')
            {
                destination[n++] = (byte)'%';
            }
            else
            {
                destination[n++] = Hex(b >> 4);
                destination[n++] = Hex(b & 0xf);
            }
        }

        return n;
    }

    private static byte Hex(int value) => (byte)(value < 10 ? '0' + value : 'A' + value - 10);
}
