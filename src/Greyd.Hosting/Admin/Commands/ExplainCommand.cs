using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Reporting;
using Greyd.Policy;
using Greyd.Protocol;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// <c>greyd explain</c>: runs a request through the same rules as a real one, in the same order, without changing
/// anything, and says which rule decides and why: whitelist file and line, AWL count, triplet times and time left.
/// </summary>
public sealed class ExplainCommand(AdminContext context) : IAdminCommand
{
    public string Name => "explain";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var policy = AdminRequest.PolicyRequestOf(request, out var client);
        long now = context.Now;
        var whitelists = context.Whitelists.Current;
        var files = context.Whitelists.Loader;
        response.WriteNumber("now", now);
        response.WriteStartArray("steps");

        var name = policy.Get(PolicyAttribute.ClientName);
        if (whitelists.Clients.IsMatch(name, client))
        {
            var line = files is null ? null : WhitelistLines.FindClient(files.ClientFiles, name, client);
            Step(response, "client whitelist", true, line is { } l ? $"{l.Entry} ({l.File} line {l.Line})" : "matched (the file changed since it was loaded)", line);
            Decide(response, "pass", "client whitelist");
            return;
        }

        Step(response, "client whitelist", false, "no match");
        var recipient = policy.Get(PolicyAttribute.Recipient);
        if (whitelists.Recipients.IsMatch(recipient))
        {
            var line = files is null ? null : WhitelistLines.FindRecipient(files.RecipientFiles, recipient);
            Step(response, "recipient whitelist", true, line is { } l ? $"{l.Entry} ({l.File} line {l.Line})" : "matched (the file changed since it was loaded)", line);
            Decide(response, "pass", "recipient whitelist");
            return;
        }

        Step(response, "recipient whitelist", false, "no match");
        bool noRecipient = recipient.IsEmpty;
        var store = context.StoreAdmin;
        if (options.AutoWhitelistClients > 0)
        {
            byte[] clientKey = AdminRequest.ClientKey(client, options);
            var record = await store.PeekClientAsync(clientKey, now).ConfigureAwait(false);
            bool listed = AutoWhitelist.Check(record, now, options, out _);
            string detail = record is { } r
                ? string.Create(CultureInfo.InvariantCulture, $"{KeyText.Display(clientKey)}: {r.Count} of {options.AutoWhitelistClients} passes counted, last counted {Ago(now, r.LastSeen)}")
                : $"{KeyText.Display(clientKey)}: no passes counted";
            Step(response, "client AWL", listed, detail);
            if (record is { } found)
            {
                response.WriteStartObject("awl");
                response.WriteNumber("count", found.Count);
                response.WriteNumber("last", found.LastSeen);
                response.WriteEndObject();
            }

            if (listed)
            {
                EndSteps(response);
                Decide(response, "pass", "client AWL");
                return;
            }
        }
        else
        {
            Step(response, "client AWL", false, "off (--auto-whitelist-clients=0)");
        }

        if (noRecipient)
        {
            throw new AdminException("--recipient is required: no whitelist decides this request, so the triplet does");
        }

        byte[] key = AdminRequest.TripletKey(request, options);
        var stored = await store.PeekTripletAsync(key, now).ConfigureAwait(false);
        var observation = TripletMath.Observe(stored, now, options);
        var decision = GreylistPolicy.Decide(observation, now, options);
        Step(response, "triplet", decision.Outcome is PolicyOutcome.FirstPass or PolicyOutcome.Pass, TripletDetail(KeyText.Display(key), stored, decision, now, options));
        EndSteps(response);
        response.WriteString("triplet_key", KeyText.Display(key));
        if (stored is { } triplet)
        {
            response.WriteStartObject("triplet");
            response.WriteNumber("first", triplet.FirstSeen);
            response.WriteNumber("last", triplet.LastSeen);
            response.WriteBoolean("passed", triplet.HasPassed(options.Delay));
            response.WriteEndObject();
        }

        switch (decision.Outcome)
        {
            case PolicyOutcome.GreylistNew:
                Decide(response, "greylist", "new", decision.Missing);
                break;
            case PolicyOutcome.GreylistEarlyRetry:
                Decide(response, "greylist", string.Create(CultureInfo.InvariantCulture, $"early-retry ({decision.Missing}s missing)"), decision.Missing);
                break;
            case PolicyOutcome.FirstPass:
                Decide(response, "pass", string.Create(CultureInfo.InvariantCulture, $"triplet found, delay={decision.Waited}"));
                break;
            default:
                Decide(response, "pass", "triplet found");
                break;
        }
    }

    private static string TripletDetail(string key, TripletRecord? stored, PolicyDecision decision, long now, GreylistOptions options)
    {
        if (stored is not { } record)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{key}: not seen (or expired): a request now starts a delay of {options.Delay}s");
        }

        string seen = $"{key}: first seen {Ago(now, record.FirstSeen)}, last seen {Ago(now, record.LastSeen)}";
        return decision.Outcome switch
        {
            PolicyOutcome.Pass => string.Create(CultureInfo.InvariantCulture, $"{seen}; passed, kept until {Ago(now, record.LastSeen + options.MaxAge)} without mail (--max-age)"),
            PolicyOutcome.FirstPass => string.Create(CultureInfo.InvariantCulture, $"{seen}; the delay is over: the next retry passes (window open until {Ago(now, record.FirstSeen + options.RetryWindow)})"),
            PolicyOutcome.GreylistEarlyRetry => string.Create(CultureInfo.InvariantCulture, $"{seen}; {decision.Missing}s of the {options.Delay}s delay left"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seen}; the retry window ({options.RetryWindow}s) has closed: a request now starts the delay again"),
        };
    }

    /// <summary>A time as an ISO date with how long ago or ahead it is: "2026-11-28T01:40:00Z (5m ago)".</summary>
    public static string Ago(long now, long at)
    {
        string when = DateTimeOffset.FromUnixTimeSeconds(at).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        long d = now - at;
        return d >= 0 ? $"{when} ({ReportText.Duration(d)} ago)" : $"{when} (in {ReportText.Duration(-d)})";
    }

    private static void Step(Utf8JsonWriter response, string rule, bool decides, string detail, (string File, int Line, string Entry)? line = null)
    {
        response.WriteStartObject();
        response.WriteString("rule", rule);
        response.WriteBoolean("decides", decides);
        response.WriteString("detail", detail);
        if (line is { } l)
        {
            response.WriteString("file", l.File);
            response.WriteNumber("line", l.Line);
            response.WriteString("entry", l.Entry);
        }

        response.WriteEndObject();
        if (decides && rule is "client whitelist" or "recipient whitelist")
        {
            EndSteps(response);
        }
    }

    private static void EndSteps(Utf8JsonWriter response) => response.WriteEndArray();

    private static void Decide(Utf8JsonWriter response, string action, string reason, long missing = -1)
    {
        response.WriteString("action", action);
        response.WriteString("reason", reason);
        if (missing >= 0)
        {
            response.WriteNumber("retry_in", missing);
        }
    }
}
