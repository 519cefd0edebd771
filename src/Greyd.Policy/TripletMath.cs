namespace Greyd.Policy;

/// <summary>
/// The triplet update rule, shared by every store so it is tested once. It runs inside the store's atomic
/// read-modify-write, so concurrent requests for one triplet never lose an update.
/// </summary>
public static class TripletMath
{
    /// <summary>
    /// True when a stored triplet no longer counts: unseen for longer than max-age, or never passed and unseen
    /// for longer than the retry window (postgrey's nightly cleanup rules, applied at lookup).
    /// </summary>
    public static bool IsExpired(TripletRecord record, long now, GreylistOptions options) =>
        now - record.LastSeen > options.MaxAge
        || (!record.HasPassed(options.Delay) && now - record.LastSeen > options.RetryWindow);

    /// <summary>Applies one sighting at <paramref name="now"/> to the stored record (null when absent).</summary>
    public static TripletObservation Observe(TripletRecord? old, long now, GreylistOptions options)
    {
        if (old is not { } record || IsExpired(record, now, options))
        {
            return new TripletObservation(new TripletRecord(now, now), false, false);
        }

        long first = record.FirstSeen;
        bool passed = record.HasPassed(options.Delay);
        bool corrected = false;
        if (!passed && now - first > options.RetryWindow)
        {
            // The first retry came too late: this sighting starts the triplet again.
            first = now;
        }

        if (first > now)
        {
            // The clock went back. postgrey re-greylists even passed triplets here; greyd keeps a pass a pass.
            corrected = true;
            first = passed ? now - options.Delay : now;
        }
        else if (passed && now - first < options.Delay)
        {
            // The clock went back to within the delay after first-seen: a pass stays a pass here too.
            first = now - options.Delay;
        }

        // Only a sighting after the first one's second retries it; a restart above starts a new triplet.
        bool firstRetry = record.LastSeen == record.FirstSeen && first == record.FirstSeen && now > first;
        return new TripletObservation(new TripletRecord(first, now), passed, corrected, firstRetry);
    }
}
