using System.Text;

namespace Greyd.Hosting.Import;

/// <summary>What an import read and what became of it; complete once its records have all been enumerated.</summary>
public sealed class ImportSummary
{
    public const int ExamplesPerReason = 3;

    private const int ExampleKeyLength = 100;

    private readonly List<ImportSkipGroup> _skipped = [];

    public ImportCounts Triplets { get; } = new();

    public ImportCounts Clients { get; } = new();

    /// <summary>One group per reason met, in the order first met.</summary>
    public IReadOnlyList<ImportSkipGroup> Skipped => _skipped;

    /// <summary>Converted records whose keys were --privacy digests, taken as they are.</summary>
    public long PrivacyKeys { get; internal set; }

    /// <summary>The summary as greyd prints it: counts, then each reason with its examples.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        Line(text, "triplets", Triplets);
        Line(text, "AWL clients", Clients);
        foreach (var group in _skipped)
        {
            text.Append("skipped, ").Append(Describe(group.Reason)).Append(": ").Append(group.Count).Append('\n');
            foreach (string example in group.Examples)
            {
                text.Append("  ").Append(example).Append('\n');
            }
        }

        if (PrivacyKeys > 0)
        {
            text.Append(PrivacyKeys).Append(" --privacy keys taken as they are: they match only if postgrey keyed ")
                .Append("networks as greyd does (its 1.37 keys, the same cidr and lookup-by-host)\n");
        }

        return text.ToString();
    }

    /// <summary>The reason in a few words, as <see cref="Describe()"/> prints it.</summary>
    public static string Describe(ImportSkipReason reason) => reason switch
    {
        ImportSkipReason.MalformedKey => "key in no postgrey format",
        ImportSkipReason.MalformedValue => "value not first,last or count,last",
        ImportSkipReason.NetworkTooWide => "network wider than greyd's key",
        ImportSkipReason.PrivacyKey => "--privacy key, greyd runs without --privacy",
        ImportSkipReason.AutoWhitelistOff => "AWL client, greyd's AWL is off",
        ImportSkipReason.Duplicate => "second value of a key",
        ImportSkipReason.KeyTooLong => "key longer than greyd's keys",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    internal void Skip(ImportCounts counts, ImportSkipReason reason, PostgreyEntry entry, string? detail)
    {
        counts.Skipped++;
        var group = _skipped.Find(g => g.Reason == reason);
        if (group is null)
        {
            group = new ImportSkipGroup(reason);
            _skipped.Add(group);
        }

        var example = new StringBuilder(entry.Location).Append(": ");
        AppendPrintable(example, entry.Key);
        if (detail is not null)
        {
            example.Append(" (").Append(detail).Append(')');
        }

        group.Add(example.ToString());
    }

    private static void Line(StringBuilder text, string what, ImportCounts counts) =>
        text.Append(what).Append(": ").Append(counts.Read).Append(" read, ").Append(counts.Converted).Append(" to import, ")
            .Append(counts.Expired).Append(" expired, ").Append(counts.Skipped).Append(" skipped\n");

    /// <summary>The key as db_dump -p prints it, so an example can be found in a dump.</summary>
    private static void AppendPrintable(StringBuilder text, byte[] key)
    {
        int shown = Math.Min(key.Length, ExampleKeyLength);
        foreach (byte b in key.AsSpan(0, shown))
        {
            if (b == (byte)'\\')
            {
                text.Append(@"\\");
            }
            else if (b is >= 0x20 and < 0x7f)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('\\').Append(b.ToString("x2"));
            }
        }

        if (shown < key.Length)
        {
            text.Append("...");
        }
    }
}
