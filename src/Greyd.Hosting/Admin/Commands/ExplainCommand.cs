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
        var steps = new List<Step>();
        response.WriteNumber("now", now);
        var (action, reason, retryIn) = await DecideAsync(request, policy, client, now, steps, response).ConfigureAwait(false);
        response.WriteStartArray("steps");
        foreach (var step in steps)
        {
            step.Write(response);
        }

        response.WriteEndArray();
        response.WriteString("action", action);
        response.WriteString("reply", action == "greylist" ? options.GreylistAction : reason.StartsWith("triplet found, delay=", StringComparison.Ordinal) ? "PREPEND" : "DUNNO");
        response.WriteString("reason", reason);
        if (retryIn >= 0)
        {
            response.WriteNumber("retry_in", retryIn);
        }
    }

    /// <summary>A time as an ISO date with how long ago or ahead it is: "2026-11-28T01:40:00Z (5m ago)".</summary>
    public static string Ago(long now, long at)
    {
        string when = DateTimeOffset.FromUnixTimeSeconds(at).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        long d = now - at;
        return d >= 0 ? $"{when} ({ReportText.Duration(d)} ago)" : $"{when} (in {ReportText.Duration(-d)})";
    }

    // The rules in PolicyService's order; each adds its step, the first that decides ends the walk.
    private async Task<(string Action, string Reason, long RetryIn)> DecideAsync(
        JsonElement request, PolicyRequest policy, ClientAddress client, long now, List<Step> steps, Utf8JsonWriter response)
    {
        var options = context.Options;
        var whitelists = context.Whitelists.Current;
        var files = context.Whitelists.Loader;
        if (whitelists.Clients.IsMatch(policy.Get(PolicyAttribute.ClientName), client))
        {
            var line = files is null ? null : WhitelistLines.FindClient(files.ClientFiles, policy.Get(PolicyAttribute.ClientName), client);
            steps.Add(Step.Whitelist("client whitelist", line));
            return ("pass", "client whitelist", -1);
        }

        steps.Add(new Step("client whitelist", false, "no match", null));
        if (whitelists.Recipients.IsMatch(policy.Get(PolicyAttribute.Recipient)))
        {
            var line = files is null ? null : WhitelistLines.FindRecipient(files.RecipientFiles, policy.Get(PolicyAttribute.Recipient));
            steps.Add(Step.Whitelist("recipient whitelist", line));
            return ("pass", "recipient whitelist", -1);
        }

        steps.Add(new Step("recipient whitelist", false, "no match", null));
        var store = context.StoreAdmin;
        if (options.AutoWhitelistClients > 0)
        {
            byte[] clientKey = AdminRequest.ClientKey(client, options);
            var record = await store.PeekClientAsync(clientKey, now).ConfigureAwait(false);
            bool listed = AutoWhitelist.Check(record, now, options, out _);
            steps.Add(new Step("client AWL", listed, record is { } r
                ? string.Create(CultureInfo.InvariantCulture, $"{KeyText.Display(clientKey)}: {r.Count} of {options.AutoWhitelistClients} passes counted, last counted {Ago(now, r.LastSeen)}")
                : $"{KeyText.Display(clientKey)}: no passes counted", null));
            if (record is { } found)
            {
                response.WriteStartObject("awl");
                response.WriteNumber("count", found.Count);
                response.WriteNumber("last", found.LastSeen);
                response.WriteEndObject();
            }

            if (listed)
            {
                return ("pass", "client AWL", -1);
            }
        }
        else
        {
            steps.Add(new Step("client AWL", false, "off (--auto-whitelist-clients=0)", null));
        }

        byte[] key = AdminRequest.TripletKey(request, options);
        var stored = await store.PeekTripletAsync(key, now).ConfigureAwait(false);
        if (context.Pools is { } pools)
        {
            (key, stored) = await PoolKeyAsync(pools, policy, client, key, stored, now, steps, response).ConfigureAwait(false);
        }

        var decision = GreylistPolicy.Decide(TripletMath.Observe(stored, now, options), now, options);
        steps.Add(new Step("triplet", decision.Outcome is PolicyOutcome.FirstPass or PolicyOutcome.Pass, TripletDetail(KeyText.Display(key), stored, decision, now, options), null));
        response.WriteString("triplet_key", KeyText.Display(key));
        if (stored is { } triplet)
        {
            response.WriteStartObject("triplet");
            response.WriteNumber("first", triplet.FirstSeen);
            response.WriteNumber("last", triplet.LastSeen);
            response.WriteBoolean("passed", triplet.HasPassed(options.Delay));
            response.WriteEndObject();
        }

        return decision.Outcome switch
        {
            PolicyOutcome.GreylistNew => ("greylist", "new", decision.Missing),
            PolicyOutcome.GreylistEarlyRetry => ("greylist", string.Create(CultureInfo.InvariantCulture, $"early-retry ({decision.Missing}s missing)"), decision.Missing),
            PolicyOutcome.FirstPass => ("pass", string.Create(CultureInfo.InvariantCulture, $"triplet found, delay={decision.Waited}"), -1),
            _ => ("pass", "triplet found", -1),
        };
    }

    // The same choice as PolicyService: the pool key on an SPF pass, unless a triplet under the client network is
    // further along than a pool triplet not yet seen.
    private async Task<(byte[] Key, TripletRecord? Stored)> PoolKeyAsync(
        SenderPools.SenderPoolChecker pools, PolicyRequest policy, ClientAddress client, byte[] networkKey, TripletRecord? networkStored,
        long now, List<Step> steps, Utf8JsonWriter response)
    {
        if (SenderPools.SenderPoolChecker.SenderDomain(policy.Get(PolicyAttribute.Sender)) is not { } domain)
        {
            steps.Add(new Step("sender pool", false, "no sender domain to check: keyed by client network", null));
            return (networkKey, networkStored);
        }

        var check = await pools.CheckAsync(client, domain, policy.Get(PolicyAttribute.Sender), policy.Get(PolicyAttribute.HeloName)).ConfigureAwait(false);
        byte[] key = networkKey;
        var stored = networkStored;
        string keyedBy = "client network";
        if (check.UsesPool)
        {
            byte[] poolKey = new byte[TripletKeyBuilder.MaxKeyLength];
            poolKey = poolKey[..TripletKeyBuilder.WritePoolTripletKey(System.Text.Encoding.ASCII.GetBytes(domain), policy, context.Options, poolKey)];
            var poolStored = await context.StoreAdmin.PeekTripletAsync(poolKey, now).ConfigureAwait(false);
            if (networkStored is not null && GreylistPolicy.PoolTripletYields(TripletMath.Observe(poolStored, now, context.Options), now, context.Options))
            {
                keyedBy = "client network (a triplet waits there already, so it decides)";
            }
            else
            {
                (key, stored, keyedBy) = (poolKey, poolStored, $"sender domain {domain}");
            }
        }

        steps.Add(new Step("sender pool", false, $"SPF {check.Label} for {domain} ({check.Reason}): keyed by {keyedBy}", null));
        response.WriteStartObject("spf");
        response.WriteString("result", check.Label);
        response.WriteString("domain", domain);
        response.WriteString("reason", check.Reason);
        response.WriteString("key", ReferenceEquals(key, networkKey) ? "client network" : "sender domain");
        response.WriteEndObject();
        return (key, stored);
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
            // A sighting in the same second as the first is "new" to postgrey too, but nothing has closed.
            PolicyOutcome.GreylistEarlyRetry or PolicyOutcome.GreylistNew when now - record.FirstSeen <= options.RetryWindow && record.FirstSeen <= now
                => string.Create(CultureInfo.InvariantCulture, $"{seen}; {decision.Missing}s of the {options.Delay}s delay left"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seen}; the retry window ({options.RetryWindow}s) has closed: a request now starts the delay again"),
        };
    }

    /// <summary>One rule's verdict, with the whitelist line that matched.</summary>
    private sealed record Step(string Rule, bool Decides, string Detail, (string File, int Line, string Entry)? Line)
    {
        public static Step Whitelist(string rule, (string File, int Line, string Entry)? line) =>
            new(rule, true, line is { } l ? $"{l.Entry} ({l.File} line {l.Line})" : "matched (the file changed since it was loaded)", line);

        public void Write(Utf8JsonWriter response)
        {
            response.WriteStartObject();
            response.WriteString("rule", Rule);
            response.WriteBoolean("decides", Decides);
            response.WriteString("detail", Detail);
            if (Line is { } l)
            {
                response.WriteString("file", l.File);
                response.WriteNumber("line", l.Line);
                response.WriteString("entry", l.Entry);
            }

            response.WriteEndObject();
        }
    }
}
