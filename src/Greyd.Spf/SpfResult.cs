namespace Greyd.Spf;

/// <summary>RFC 7208's results of check_host() (section 2.6), plus the time budget running out.</summary>
public enum SpfResult
{
    /// <summary>No SPF record, or the domain is not a usable name.</summary>
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    /// <summary>A DNS error (SERVFAIL, a lookup timing out): the answer may differ later.</summary>
    TempError,
    /// <summary>A broken record, or the lookup or void-lookup limit exceeded.</summary>
    PermError,
}
