using System.Text;

namespace Greyd.Hosting.Admin;

/// <summary>
/// Store keys as text for people and JSON: printable ASCII and valid UTF-8 as they are, a backslash as <c>\\</c>, any
/// other byte as <c>\xHH</c>, so a key from a client can never carry terminal escapes, and the text reads back exactly.
/// </summary>
public static class KeyText
{
    public static string Display(ReadOnlySpan<byte> key)
    {
        var text = new StringBuilder(key.Length);
        int i = 0;
        while (i < key.Length)
        {
            byte b = key[i];
            if (b == (byte)'\\')
            {
                text.Append(@"\\");
                i++;
            }
            else if (b is >= 0x20 and < 0x7f)
            {
                text.Append((char)b);
                i++;
            }
            else if (b >= 0x80 && Rune.DecodeFromUtf8(key[i..], out var rune, out int used) == System.Buffers.OperationStatus.Done && !Rune.IsControl(rune))
            {
                text.Append(rune.ToString());
                i += used;
            }
            else
            {
                text.Append(@"\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                i++;
            }
        }

        return text.ToString();
    }

    /// <summary>The bytes of a key written by <see cref="Display"/> (or typed by a user); null when an escape is bad.</summary>
    public static byte[]? Parse(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c != '\\')
            {
                int n = Encoding.UTF8.GetBytes(text.AsSpan(i, char.IsHighSurrogate(c) && i + 1 < text.Length ? 2 : 1), utf8);
                if (char.IsHighSurrogate(c))
                {
                    i++;
                }

                for (int j = 0; j < n; j++)
                {
                    bytes.Add(utf8[j]);
                }

                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '\\')
            {
                bytes.Add((byte)'\\');
                i++;
            }
            else if (i + 3 < text.Length && text[i + 1] == 'x'
                && byte.TryParse(text.AsSpan(i + 2, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 3;
            }
            else
            {
                return null;
            }
        }

        return [.. bytes];
    }
}
