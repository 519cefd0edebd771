using Greyd.Hosting.Native;

namespace Greyd.Hosting.Server;

/// <summary>
/// The <c>%d</c> of the X-Greylist header: <c>strftime("%a, %d %b %Y %T %Z", localtime(now))</c> in the C locale,
/// as postgrey writes it, including the local time zone's abbreviation. Formatted at most once a second.
/// </summary>
public sealed class HeaderDate
{
    private readonly Lock _gate = new();
    private readonly byte[] _text = new byte[64];
    private long _second = long.MinValue;
    private int _length;

    static HeaderDate() => Libc.TzSet();

    /// <summary>Copies the date for <paramref name="unixSeconds"/> into <paramref name="destination"/>.</summary>
    public unsafe int Write(long unixSeconds, Span<byte> destination)
    {
        lock (_gate)
        {
            if (unixSeconds != _second)
            {
                Libc.Tm tm;
                long t = unixSeconds;
                byte* format = stackalloc byte[] { (byte)'%', (byte)'a', (byte)',', (byte)' ', (byte)'%', (byte)'d', (byte)' ', (byte)'%', (byte)'b', (byte)' ', (byte)'%', (byte)'Y', (byte)' ', (byte)'%', (byte)'T', (byte)' ', (byte)'%', (byte)'Z', 0 };
                fixed (byte* buffer = _text)
                {
                    _length = Libc.LocalTime(&t, &tm) == null ? 0 : (int)Libc.StrFTime(buffer, (nuint)_text.Length, format, &tm);
                }

                _second = unixSeconds;
            }

            _text.AsSpan(0, _length).CopyTo(destination);
            return _length;
        }
    }
}
