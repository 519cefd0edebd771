namespace Greyd.Policy;

/// <summary>
/// postgrey's sender substitutions: BATV (<c>prvs=</c>) tags removed, <c>+extension</c> removed, and every
/// run of digits between word boundaries in the local part replaced by <c>#</c>. The domain is never changed.
/// </summary>
public static class SenderNormalizer
{
    /// <summary>Writes the normalised sender (not yet lower-cased) and returns its length; never longer than the input.</summary>
    public static int Normalize(ReadOnlySpan<byte> sender, Span<byte> destination)
    {
        int at = sender.IndexOf((byte)'@');
        if (at < 0)
        {
            sender.CopyTo(destination);
            return sender.Length;
        }

        var user = sender[..at];
        var domain = sender[(at + 1)..];
        user = StripBatv(user);

        int plus = user.IndexOf((byte)'+');
        if (plus >= 0)
        {
            user = user[..plus];
        }

        int n = ReplaceDigitRuns(user, destination);
        destination[n++] = (byte)'@';
        domain.CopyTo(destination[n..]);
        return n + domain.Length;
    }

    // prvs=a1=a2 with exactly three fields (Perl's split drops trailing empty fields): keep the part that is not a tag.
    private static ReadOnlySpan<byte> StripBatv(ReadOnlySpan<byte> user)
    {
        if (!user.StartsWith("prvs="u8))
        {
            return user;
        }

        var trimmed = user.TrimEnd((byte)'=');
        if (trimmed.Length <= 5)
        {
            // "prvs=" followed only by '=': split gives the single field "prvs".
            return user;
        }

        var rest = trimmed[5..];
        int eq = rest.IndexOf((byte)'=');
        if (eq < 0 || rest[(eq + 1)..].Contains((byte)'='))
        {
            return user;
        }

        var a1 = rest[..eq];
        var a2 = rest[(eq + 1)..];
        bool tag1 = LooksLikeTag(a1);
        bool tag2 = LooksLikeTag(a2);
        if (tag2 && !tag1)
        {
            return a1;
        }

        return a2;
    }

    private static bool LooksLikeTag(ReadOnlySpan<byte> field)
    {
        if (field.Length < 10)
        {
            return false;
        }

        foreach (byte b in field[..10])
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'z')))
            {
                return false;
            }
        }

        return true;
    }

    // s/\b\d+\b/#/g on bytes: word characters are ASCII [A-Za-z0-9_].
    private static int ReplaceDigitRuns(ReadOnlySpan<byte> user, Span<byte> destination)
    {
        int n = 0;
        int i = 0;
        while (i < user.Length)
        {
            if (IsDigit(user[i]) && (i == 0 || !IsWord(user[i - 1])))
            {
                int end = i;
                while (end < user.Length && IsDigit(user[end]))
                {
                    end++;
                }

                if (end == user.Length || !IsWord(user[end]))
                {
                    destination[n++] = (byte)'#';
                    i = end;
                    continue;
                }

                user[i..end].CopyTo(destination[n..]);
                n += end - i;
                i = end;
                continue;
            }

            destination[n++] = user[i++];
        }

        return n;
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static bool IsWord(byte b) =>
        b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (byte)'_';
}
