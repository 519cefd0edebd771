namespace Greyd.Policy;

/// <summary>
/// postgrey's auto-whitelist of clients: a client address counts one pass per hour at most, and once its count
/// reaches the threshold its mail passes without triplets. These rules run inside the store's atomic update.
/// </summary>
public static class AutoWhitelist
{
    private const long CountInterval = 3600;

    public static bool IsExpired(ClientRecord record, long now, GreylistOptions options) =>
        now - record.LastSeen > options.MaxAge;

    /// <summary>
    /// The AWL check before the triplet stage. Returns whether the client is whitelisted and, when the record must
    /// change ("for statistics", at most hourly), the new record.
    /// </summary>
    public static bool Check(ClientRecord? old, long now, GreylistOptions options, out ClientRecord? updated)
    {
        updated = null;
        if (options.AutoWhitelistClients <= 0 || old is not { } record || IsExpired(record, now, options)
            || record.Count < options.AutoWhitelistClients)
        {
            return false;
        }

        if (now >= record.LastSeen + CountInterval || record.LastSeen > now)
        {
            updated = new ClientRecord(record.Count + 1, now);
        }

        return true;
    }

    /// <summary>Counts a first pass of a triplet from this client; null when it was counted less than an hour ago.</summary>
    public static ClientRecord? Count(ClientRecord? old, long now, GreylistOptions options)
    {
        if (old is not { } record || IsExpired(record, now, options))
        {
            return new ClientRecord(1, now);
        }

        return now >= record.LastSeen + CountInterval ? new ClientRecord(record.Count + 1, now) : null;
    }
}
