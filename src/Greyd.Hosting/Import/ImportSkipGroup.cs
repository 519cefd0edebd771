namespace Greyd.Hosting.Import;

/// <summary>The records skipped for one reason, with the first few as examples.</summary>
public sealed class ImportSkipGroup
{
    private readonly List<string> _examples = [];

    internal ImportSkipGroup(ImportSkipReason reason) => Reason = reason;

    public ImportSkipReason Reason { get; }

    public long Count { get; private set; }

    /// <summary>
    /// Up to <see cref="ImportSummary.ExamplesPerReason"/> records: where each was read, its key as <c>db_dump -p</c>
    /// prints it (cut at 100 characters) and, in brackets, what is wrong with it.
    /// </summary>
    public IReadOnlyList<string> Examples => _examples;

    internal void Add(string example)
    {
        Count++;
        if (_examples.Count < ImportSummary.ExamplesPerReason)
        {
            _examples.Add(example);
        }
    }
}
