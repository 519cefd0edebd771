using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Logging;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// The daemon's half of <c>greyd import-postgrey</c>. The command reads postgrey's files (greyd's user may not) and
/// converts them under the options this asks for; the records then arrive here in batches and are merged into the
/// store by <see cref="IStoreAdmin"/>'s rules, which never turn a triplet that has not passed into one that has.
/// </summary>
public sealed class ImportCommand(AdminContext context) : IAdminCommand
{
    /// <summary>Records per request: small enough for the admin socket's request limit with the longest keys.</summary>
    public const int BatchSize = 1000;

    public string Name => "import";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        switch (AdminRequest.String(request, "phase"))
        {
            case "options":
                WriteOptions(response);
                return;
            case "done":
                context.Log.Write(LogPriority.Notice, string.Create(CultureInfo.InvariantCulture,
                    $"import from postgrey: {AdminRequest.Integer(request, "triplets", 0)} triplets and {AdminRequest.Integer(request, "clients", 0)} AWL clients added or merged, {AdminRequest.Integer(request, "kept", 0)} kept as greyd had them, {AdminRequest.Integer(request, "skipped", 0)} skipped"));
                return;
            case "records":
                await ImportAsync(request, response).ConfigureAwait(false);
                return;
            default:
                throw new AdminException("\"phase\" must be options, records or done");
        }
    }

    private void WriteOptions(Utf8JsonWriter response)
    {
        response.WriteNumber("now", context.Now);
        OptionsJson.Write(response, context.Options);
    }

    private async Task ImportAsync(JsonElement request, Utf8JsonWriter response)
    {
        if (!request.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Array || records.GetArrayLength() > BatchSize)
        {
            throw new AdminException($"\"records\" must be an array of at most {BatchSize}");
        }

        var store = context.StoreAdmin;
        long now = context.Now;
        var outcomes = new long[Enum.GetValues<ImportOutcome>().Length];
        long invalid = 0;
        foreach (var record in records.EnumerateArray())
        {
            bool client = AdminRequest.Flag(record, "client");
            byte[] key = KeyText.Parse(AdminRequest.String(record, "key") ?? string.Empty) is { Length: > 0 and <= TripletKeyBuilder.MaxKeyLength } k
                ? k : throw new AdminException("a record's \"key\" is missing, badly escaped or too long");
            long a = AdminRequest.Integer(record, "a", -1);
            long b = AdminRequest.Integer(record, "b", -1);
            if (a < 0 || b < 0)
            {
                throw new AdminException("a record needs \"a\" and \"b\"");
            }

            try
            {
                var outcome = client
                    ? await store.ImportClientAsync(key, new ClientRecord(a, b), now).ConfigureAwait(false)
                    : await store.ImportTripletAsync(key, new TripletRecord(a, b), now).ConfigureAwait(false);
                outcomes[(int)outcome]++;
            }
            catch (ArgumentOutOfRangeException)
            {
                // A record no clock could have written (before 2000, first after last, in the future): not stored.
                invalid++;
            }
        }

        response.WriteNumber("invalid", invalid);

        foreach (var outcome in Enum.GetValues<ImportOutcome>())
        {
            response.WriteNumber(outcome.ToString().ToLowerInvariant(), outcomes[(int)outcome]);
        }
    }
}
