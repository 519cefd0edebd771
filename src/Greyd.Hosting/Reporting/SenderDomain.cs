namespace Greyd.Hosting.Reporting;

/// <summary>
/// A sender's domain as the report's key: the part after the last '@', lower-cased, every byte outside
/// [a-z0-9.-_:[]] written as %XX, so client bytes never reach a file, a table or JSON unescaped and never
/// spell one of the reserved names below, which all hold a byte that is escaped in a domain.
/// </summary>
internal static class SenderDomain
{
    /// <summary>RFC 5321's longest domain; anything longer is <see cref="Invalid"/>.</summary>
    public const int MaxDomainLength = 255;

    public const int MaxKeyLength = MaxDomainLength * 3;

    public const string NullSender = "<>";
    public const string NoDomain = "(none)";
    public const string Private = "(private)";
    public const string Other = "(other)";
    public const string Invalid = "(invalid)";

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    /// <summary>Writes the key of <paramref name="sender"/> into <paramref name="key"/> (at least <see cref="MaxKeyLength"/> bytes).</summary>
    public static int Write(ReadOnlySpan<byte> sender, Span<byte> key)
    {
        if (sender.IsEmpty)
        {
            return Copy(NullSender, key);
        }

        int at = sender.LastIndexOf((byte)'@');
        if (at < 0 || at == sender.Length - 1)
        {
            return Copy(NoDomain, key);
        }

        var domain = sender[(at + 1)..];
        if (domain.Length > MaxDomainLength)
        {
            return Copy(Invalid, key);
        }

        int n = 0;
        foreach (byte b in domain)
        {
            if (b is >= (byte)'A' and <= (byte)'Z')
            {
                key[n++] = (byte)(b | 0x20);
            }
            else if (IsPlain(b))
            {
                key[n++] = b;
            }
            else
            {
                key[n++] = (byte)'%';
                key[n++] = Hex[b >> 4];
                key[n++] = Hex[b & 15];
            }
        }

        return n;
    }

    /// <summary>The key of a domain typed by a user (a filter), or a reserved name as it is.</summary>
    public static string KeyOf(string domain)
    {
        if (IsReserved(domain))
        {
            return domain;
        }

        byte[] sender = System.Text.Encoding.UTF8.GetBytes("@" + domain);
        Span<byte> key = stackalloc byte[MaxKeyLength];
        return System.Text.Encoding.ASCII.GetString(key[..Write(sender, key)]);
    }

    /// <summary>True for a key <see cref="Write"/> can produce: what a day file may hold.</summary>
    public static bool IsValidKey(ReadOnlySpan<char> key)
    {
        if (IsReserved(key))
        {
            return true;
        }

        if (key.IsEmpty || key.Length > MaxKeyLength)
        {
            return false;
        }

        for (int i = 0; i < key.Length; i++)
        {
            char c = key[i];
            if (c == '%' && i + 2 < key.Length && IsUpperHex(key[i + 1]) && IsUpperHex(key[i + 2]))
            {
                i += 2;
            }
            else if (c > 0x7f || !IsPlain((byte)c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsReserved(ReadOnlySpan<char> key) =>
        key is NullSender or NoDomain or Private or Other or Invalid;

    private static bool IsPlain(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'.' or (byte)'-' or (byte)'_' or (byte)':' or (byte)'[' or (byte)']';

    private static bool IsUpperHex(char c) => c is (>= '0' and <= '9') or (>= 'A' and <= 'F');

    private static int Copy(string name, Span<byte> key)
    {
        for (int i = 0; i < name.Length; i++)
        {
            key[i] = (byte)name[i];
        }

        return name.Length;
    }
}
