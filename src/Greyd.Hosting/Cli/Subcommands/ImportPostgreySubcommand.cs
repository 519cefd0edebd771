using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Admin.Commands;
using Greyd.Hosting.Import;
using Greyd.Policy;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>
/// <c>greyd import-postgrey</c>: loads postgrey's triplets and AWL clients into the running greyd, so switching over
/// greylists no correspondent twice. Reads the Berkeley DB files or <c>db_dump</c> text here, keys them under the
/// daemon's options, and sends them in batches.
/// </summary>
public sealed class ImportPostgreySubcommand : AdminSubcommand
{
    private static readonly string[] s_defaultDirectories = ["/var/lib/postgrey", "/var/spool/postfix/postgrey"];

    public override string Name => "import-postgrey";

    public override string Summary => "load postgrey's triplets and auto-whitelisted clients into the running greyd";

    public override string Usage => """
        Usage: greyd import-postgrey [--dbdir=DIR] [--dry-run] [--json]
               greyd import-postgrey --triplets=FILE [--clients=FILE] [--dry-run] [--json]

        Reads postgrey.db and postgrey_clients.db (postgrey 1.34 to 1.37, with or without --privacy) from
        DIR (default /var/lib/postgrey, else /var/spool/postfix/postgrey), or the files given, which may
        also be db_dump text (db_dump -p -h DIR postgrey.db > FILE). Stop postgrey first, or use db_dump.
        Triplets and clients are keyed as greyd keys them; records greyd already holds keep greyd's state
        unless postgrey's has passed; expired records and unreadable keys are counted and shown.
          --postgrey-ipv4cidr=N, --postgrey-ipv6cidr=N
                         postgrey's --ipv4cidr and --ipv6cidr, if it did not use 24 and 64
          --dry-run      read and convert, and say what would be imported, without importing
        """;

    protected override IReadOnlyCollection<string> ValueOptions => ["dbdir", "triplets", "clients", "postgrey-ipv4cidr", "postgrey-ipv6cidr"];

    protected override IReadOnlyCollection<string> Flags => ["dry-run"];

    protected override void Validate(SubcommandArguments args)
    {
        base.Validate(args);
        if (args.Get("dbdir") is not null && (args.Get("triplets") ?? args.Get("clients")) is not null)
        {
            throw new SubcommandUsageException("give --dbdir, or --triplets (and --clients), not both");
        }

        if (args.Get("clients") is not null && args.Get("triplets") is null)
        {
            throw new SubcommandUsageException("--clients needs --triplets");
        }
    }

    protected override async Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken)
    {
        var (triplets, clients) = Files(args);
        int cidr4 = Cidr(args, "postgrey-ipv4cidr", 24, 32);
        int cidr6 = Cidr(args, "postgrey-ipv6cidr", 64, 128);
        bool dryRun = args.Has("dry-run");

        GreylistOptions options;
        long now;
        using (var answer = await client.RequestAsync(ImportCommandName, r => r.WriteString("phase", "options"), cancellationToken).ConfigureAwait(false))
        {
            (options, now) = OptionsOf(answer.RootElement);
        }

        var import = new PostgreyImport(options, now, cidr4, cidr6);
        var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
        var batch = new List<ImportRecord>(ImportCommand.BatchSize);
        string? failure = null;
        try
        {
            foreach (var record in import.Read(triplets, clients))
            {
                batch.Add(record);
                if (batch.Count == ImportCommand.BatchSize)
                {
                    await SendAsync(client, batch, dryRun, outcomes, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is PostgreyImportException or IOException or UnauthorizedAccessException)
        {
            failure = e.Message;
        }

        await SendAsync(client, batch, dryRun, outcomes, cancellationToken).ConfigureAwait(false);
        var summary = import.Summary;
        long changed = outcomes.GetValueOrDefault("added") + outcomes.GetValueOrDefault("merged");
        if (!dryRun)
        {
            using var done = await client.RequestAsync(ImportCommandName, r =>
            {
                r.WriteString("phase", "done");
                r.WriteNumber("triplets", summary.Triplets.Converted);
                r.WriteNumber("clients", summary.Clients.Converted);
                r.WriteNumber("kept", outcomes.GetValueOrDefault("kept"));
                r.WriteNumber("skipped", summary.Triplets.Skipped + summary.Clients.Skipped);
            }, cancellationToken).ConfigureAwait(false);
        }

        if (args.Has("json"))
        {
            WriteSummaryJson(output, summary, outcomes, dryRun, failure);
        }
        else
        {
            // Describe() prints keys as db_dump -p does: no control characters reach the terminal.
            await output.WriteAsync(summary.Describe()).ConfigureAwait(false);
            output.WriteLine(dryRun
                ? string.Create(CultureInfo.InvariantCulture, $"dry run: {summary.Triplets.Converted + summary.Clients.Converted} records would be imported; nothing was changed")
                : string.Create(CultureInfo.InvariantCulture, $"greyd: {outcomes.GetValueOrDefault("added")} added, {outcomes.GetValueOrDefault("merged")} merged into what greyd had, {outcomes.GetValueOrDefault("kept")} kept as greyd had them, {outcomes.GetValueOrDefault("expired")} expired{(outcomes.GetValueOrDefault("invalid") > 0 ? $", {outcomes["invalid"]} refused (times no clock could have written)" : string.Empty)}"));
        }

        if (failure is not null)
        {
            throw new AdminException($"stopped at damage, after {changed} records were imported: {failure}");
        }

        return 0;
    }

    private const string ImportCommandName = "import";

    private static async Task SendAsync(AdminClient client, List<ImportRecord> batch, bool dryRun, Dictionary<string, long> outcomes, CancellationToken cancellationToken)
    {
        if (batch.Count == 0 || dryRun)
        {
            batch.Clear();
            return;
        }

        using var answer = await client.RequestAsync(ImportCommandName, request =>
        {
            request.WriteString("phase", "records");
            request.WriteStartArray("records");
            foreach (var record in batch)
            {
                request.WriteStartObject();
                if (record.IsClient)
                {
                    request.WriteBoolean("client", true);
                }

                request.WriteString("key", KeyText.Display(record.Key));
                request.WriteNumber("a", record.A);
                request.WriteNumber("b", record.B);
                request.WriteEndObject();
            }

            request.WriteEndArray();
        }, cancellationToken).ConfigureAwait(false);
        foreach (var property in answer.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
            {
                outcomes[property.Name] = outcomes.GetValueOrDefault(property.Name) + property.Value.GetInt64();
            }
        }

        batch.Clear();
    }

    private static (string Triplets, string? Clients) Files(SubcommandArguments args)
    {
        if (args.Get("triplets") is { } triplets)
        {
            return (Exists(triplets), args.Get("clients") is { } c ? Exists(c) : null);
        }

        string directory = args.Get("dbdir") ?? s_defaultDirectories.FirstOrDefault(d => File.Exists(Path.Combine(d, "postgrey.db")))
            ?? throw new AdminException($"no postgrey.db in {string.Join(" or ", s_defaultDirectories)}: give --dbdir or --triplets");
        string clients = Path.Combine(directory, "postgrey_clients.db");
        return (Exists(Path.Combine(directory, "postgrey.db")), File.Exists(clients) ? clients : null);
    }

    private static string Exists(string path) =>
        File.Exists(path) ? path : throw new AdminException($"cannot read {path}: no such file");

    private static int Cidr(SubcommandArguments args, string name, int fallback, int max) =>
        args.Get(name) is not { } text ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n <= max ? n
        : throw new SubcommandUsageException($"--{name} must be a prefix length from 0 to {max}");

    private static (GreylistOptions, long) OptionsOf(JsonElement r) => (OptionsJson.Read(r), Number(r, "now"));

    private static void WriteSummaryJson(TextWriter output, ImportSummary summary, Dictionary<string, long> outcomes, bool dryRun, string? failure)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("dry_run", dryRun);
            foreach (var (name, counts) in new[] { ("triplets", summary.Triplets), ("clients", summary.Clients) })
            {
                json.WriteStartObject(name);
                json.WriteNumber("read", counts.Read);
                json.WriteNumber("converted", counts.Converted);
                json.WriteNumber("expired", counts.Expired);
                json.WriteNumber("skipped", counts.Skipped);
                json.WriteEndObject();
            }

            json.WriteStartArray("skipped");
            foreach (var group in summary.Skipped)
            {
                json.WriteStartObject();
                json.WriteString("reason", ImportSummary.Describe(group.Reason));
                json.WriteNumber("count", group.Count);
                json.WriteStartArray("examples");
                foreach (string example in group.Examples)
                {
                    json.WriteStringValue(example);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("privacy_keys", summary.PrivacyKeys);
            json.WriteStartObject("store");
            foreach (string name in (string[])["added", "merged", "kept", "expired", "invalid"])
            {
                json.WriteNumber(name, outcomes.GetValueOrDefault(name));
            }

            json.WriteEndObject();
            if (failure is not null)
            {
                json.WriteString("error", failure);
            }

            json.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
