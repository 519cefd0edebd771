using Greyd.Spf;

namespace Greyd.Hosting.SenderPools;

/// <summary>
/// The SPF check behind one request's triplet key: a pass keys the triplet on the sender's domain (the pool),
/// anything else on the client network as postgrey does.
/// </summary>
/// <param name="Result">RFC 7208's result (TempError when the check timed out or was skipped).</param>
/// <param name="Status">Whether the check ran to its end, ran out of time, or was not made.</param>
/// <param name="Domain">The sender's domain that was checked.</param>
/// <param name="Reason">Why, in a few words: the mechanism that matched, the error, or why no check was made.</param>
/// <param name="PassesAnyAddress">The pass came from a term like <c>+all</c>: the record names no pool, so no pool key.</param>
public readonly record struct PoolCheck(SpfResult Result, PoolCheckStatus Status, string Domain, string Reason, bool PassesAnyAddress = false)
{
    /// <summary>The triplet is keyed on the sender's domain: an SPF pass by a record that does not authorise everyone.</summary>
    public bool UsesPool => Status == PoolCheckStatus.Done && Result == SpfResult.Pass && !PassesAnyAddress;

    /// <summary>The word logs and metrics use: the SPF result in RFC 7208's spelling, or timeout, or skipped.</summary>
    public string Label => Status switch
    {
        PoolCheckStatus.TimedOut => "timeout",
        PoolCheckStatus.Skipped => "skipped",
        _ => ResultLabel(Result),
    };

    /// <summary>Every label, in a fixed order (for metrics).</summary>
    public static IReadOnlyList<string> Labels { get; } =
        ["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror", "timeout", "skipped"];

    public static string ResultLabel(SpfResult result) => result switch
    {
        SpfResult.Pass => "pass",
        SpfResult.Fail => "fail",
        SpfResult.SoftFail => "softfail",
        SpfResult.Neutral => "neutral",
        SpfResult.None => "none",
        SpfResult.PermError => "permerror",
        _ => "temperror",
    };
}
