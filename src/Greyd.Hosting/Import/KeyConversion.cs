namespace Greyd.Hosting.Import;

/// <summary>A postgrey key turned into greyd's, or the reason it cannot be.</summary>
/// <param name="Key">greyd's key, or null when the record is skipped.</param>
/// <param name="Reason">Why it is skipped; meaningful only when <paramref name="Key"/> is null.</param>
/// <param name="Detail">A few words on this key's case, for the summary's examples; null when there is nothing to add.</param>
/// <param name="IsPrivacyKey">A <c>--privacy</c> digest taken as it is: it matches only what greyd hashes alike.</param>
public readonly record struct KeyConversion(byte[]? Key, ImportSkipReason Reason, string? Detail, bool IsPrivacyKey = false)
{
    public bool Converted => Key is not null;

    public static KeyConversion Skip(ImportSkipReason reason, string? detail = null) => new(null, reason, detail);
}
