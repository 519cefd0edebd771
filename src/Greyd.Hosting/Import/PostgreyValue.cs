namespace Greyd.Hosting.Import;

/// <summary>postgrey's values: <c>first,last</c> for a triplet, <c>count,last</c> for a client, in decimal.</summary>
internal static class PostgreyValue
{
    /// <summary>Reads the first two fields; more fields (1.35's last octet) are ignored, as postgrey does.</summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out long a, out long b)
    {
        b = 0;
        int comma = value.IndexOf((byte)',');
        if (comma < 0 || !TryParseNumber(value[..comma], out a))
        {
            a = 0;
            return false;
        }

        var rest = value[(comma + 1)..];
        int next = rest.IndexOf((byte)',');
        return TryParseNumber(next < 0 ? rest : rest[..next], out b);
    }

    private static bool TryParseNumber(ReadOnlySpan<byte> digits, out long number)
    {
        number = 0;
        if (digits.IsEmpty || digits.Length > 18)
        {
            return false;
        }

        foreach (byte d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            number = (number * 10) + (d - '0');
        }

        return true;
    }
}
