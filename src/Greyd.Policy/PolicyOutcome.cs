namespace Greyd.Policy;

/// <summary>What greyd answers a request, with the reason postgrey logs for it.</summary>
public enum PolicyOutcome
{
    /// <summary>A required attribute is missing or the client address is unusable: DUNNO, a warning, nothing stored.</summary>
    Unusable,

    /// <summary>Whitelisted client (by name or address): <c>reason=client whitelist</c>.</summary>
    ClientWhitelist,

    /// <summary>Whitelisted recipient: <c>reason=recipient whitelist</c>.</summary>
    RecipientWhitelist,

    /// <summary>Auto-whitelisted client: <c>reason=client AWL</c>.</summary>
    ClientAwl,

    /// <summary>First sighting: <c>action=greylist, reason=new</c>.</summary>
    GreylistNew,

    /// <summary>Retry before the delay: <c>action=greylist, reason=early-retry (Ns missing)</c>.</summary>
    GreylistEarlyRetry,

    /// <summary>First retry after the delay: PREPEND the X-Greylist header, <c>reason=triplet found, delay=N</c>.</summary>
    FirstPass,

    /// <summary>An already passed triplet, or a first pass for a message that already got its header.</summary>
    Pass,
}
