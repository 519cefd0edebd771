namespace Greyd.Hosting.Import;

/// <summary>What happened to the records of one database, triplets or AWL clients.</summary>
public sealed class ImportCounts
{
    /// <summary>Records read from the file.</summary>
    public long Read { get; internal set; }

    /// <summary>Records turned into greyd's records, to be written.</summary>
    public long Converted { get; internal set; }

    /// <summary>Records that have expired by greyd's rules (max-age, retry window) at the import time.</summary>
    public long Expired { get; internal set; }

    /// <summary>Records that cannot be imported; <see cref="ImportSummary.Skipped"/> says why.</summary>
    public long Skipped { get; internal set; }
}
