namespace Greyd.Storage;

/// <summary>What an imported record did to the store.</summary>
public enum ImportOutcome
{
    /// <summary>The key was absent (or expired): the imported record was stored.</summary>
    Added,

    /// <summary>The key was present and the imported record improved it (a pass, an earlier first-seen, a higher count).</summary>
    Merged,

    /// <summary>The key was present and already at least as good: nothing changed.</summary>
    Kept,

    /// <summary>The imported record has expired by greyd's rules (max-age, retry window): not stored.</summary>
    Expired,
}
