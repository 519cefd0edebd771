using System.Text.Json;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// <c>greyd list</c>: triplets and auto-whitelist clients, newest first, filtered by client address or network,
/// sender, recipient, domain and state. Filtering runs here so only the matches cross the socket.
/// </summary>
public sealed class ListCommand(AdminContext context) : IAdminCommand
{
    /// <summary>What a listing shows unless told otherwise: enough to read, small enough for any terminal.</summary>
    public const int DefaultLimit = 1000;

    public string Name => "list";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var filter = Filter.From(request, options);
        long limit = AdminRequest.Integer(request, "limit", DefaultLimit);
        if (limit < 0)
        {
            throw new AdminException("--limit must be 0 (no limit) or more");
        }

        long now = context.Now;
        var triplets = new Newest(limit);
        var clients = new Newest(limit);
        long matched = 0;
        await foreach (var entry in context.StoreAdmin.EnumerateAsync(now, cancellationToken).ConfigureAwait(false))
        {
            if (filter.Matches(entry, options))
            {
                matched++;
                (entry.IsClient ? clients : triplets).Add(entry);
            }
        }

        response.WriteBoolean("privacy", options.Privacy);
        response.WriteNumber("now", now);
        response.WriteNumber("matched", matched);
        response.WriteBoolean("truncated", triplets.Dropped + clients.Dropped > 0);
        response.WriteStartArray("triplets");
        foreach (var entry in triplets.Sorted())
        {
            WriteTriplet(response, entry, now, options);
        }

        response.WriteEndArray();
        response.WriteStartArray("clients");
        foreach (var entry in clients.Sorted())
        {
            response.WriteStartObject();
            WriteKey(response, entry.Key);
            response.WriteNumber("count", entry.A);
            response.WriteNumber("last", entry.B);
            response.WriteBoolean("whitelisted", options.AutoWhitelistClients > 0 && entry.A >= options.AutoWhitelistClients);
            response.WriteEndObject();
        }

        response.WriteEndArray();
    }

    private static void WriteTriplet(Utf8JsonWriter response, StoreEntry entry, long now, GreylistOptions options)
    {
        response.WriteStartObject();
        string? key = WriteKey(response, entry.Key);
        if (key is not null && TripletKeyParts.Parse(key, options) is { } parts)
        {
            response.WriteString("client", parts.Network);
            response.WriteString("sender", parts.Sender);
            response.WriteString("recipient", parts.Recipient);
        }

        var record = entry.Triplet;
        response.WriteNumber("first", record.FirstSeen);
        response.WriteNumber("last", record.LastSeen);
        bool passed = record.HasPassed(options.Delay);
        response.WriteString("state", passed ? "passed" : "waiting");
        if (!passed)
        {
            response.WriteNumber("retry_in", Math.Max(0, record.FirstSeen + options.Delay - now));
            response.WriteNumber("window_ends", record.FirstSeen + options.RetryWindow);
        }

        response.WriteNumber("expires", record.LastSeen + (passed ? options.MaxAge : options.RetryWindow));
        response.WriteEndObject();
    }

    private static string? WriteKey(Utf8JsonWriter response, byte[]? key)
    {
        if (key is null)
        {
            response.WriteNull("key");
            return null;
        }

        string text = KeyText.Display(key);
        response.WriteString("key", text);
        return text;
    }

    /// <summary>The filters of one request; every one given must match.</summary>
    private sealed class Filter
    {
        private string? _kind;
        private string? _state;
        private string? _sender;
        private string? _recipient;
        private string? _domain;
        private (ClientAddress Address, int Prefix)? _client;

        public static Filter From(JsonElement request, GreylistOptions options)
        {
            var filter = new Filter
            {
                _kind = AdminRequest.String(request, "kind"),
                _state = AdminRequest.String(request, "state"),
                _sender = AdminRequest.String(request, "sender")?.ToLowerInvariant(),
                _recipient = AdminRequest.String(request, "recipient")?.ToLowerInvariant(),
                _domain = AdminRequest.String(request, "domain")?.ToLowerInvariant().TrimStart('@'),
            };
            if (filter._kind is not (null or "triplets" or "clients"))
            {
                throw new AdminException("--kind must be triplets or clients");
            }

            if (filter._state is not (null or "passed" or "waiting"))
            {
                throw new AdminException("--state must be passed or waiting");
            }

            if (AdminRequest.String(request, "client") is { } client)
            {
                filter._client = ParseNetwork(client);
            }

            if (options.Privacy && (filter._sender ?? filter._recipient ?? filter._domain) is not null)
            {
                throw new AdminException("greyd runs with --privacy and keeps only digests: it cannot filter by sender, recipient or domain (greyd explain still finds one triplet)");
            }

            if (options.Privacy && filter._client is not null && filter._kind != "clients")
            {
                throw new AdminException("greyd runs with --privacy and keeps only digests: --client finds AWL clients only (add --kind=clients)");
            }

            return filter;
        }

        public bool Matches(StoreEntry entry, GreylistOptions options)
        {
            if (_kind is not null && entry.IsClient != (_kind == "clients"))
            {
                return false;
            }

            if (entry.IsClient)
            {
                if (_state is not null || _sender is not null || _recipient is not null || _domain is not null)
                {
                    return false;
                }

                if (_client is not { } wanted)
                {
                    return true;
                }

                if (options.Privacy)
                {
                    return entry.Key is { } digest && digest.AsSpan().SequenceEqual(AdminRequest.ClientKey(wanted.Address, options)) && wanted.Prefix == wanted.Address.BitLength;
                }

                return entry.Key is { } key && ClientAddress.TryParse(key, out var address) && address.IsIPv6 == wanted.Address.IsIPv6 && address.IsWithin(wanted.Address, wanted.Prefix);
            }

            if (_state is not null && entry.Triplet.HasPassed(options.Delay) != (_state == "passed"))
            {
                return false;
            }

            if (_sender is null && _recipient is null && _domain is null && _client is null)
            {
                return true;
            }

            if (entry.Key is null || TripletKeyParts.Parse(KeyText.Display(entry.Key), options) is not { } parts)
            {
                return false;
            }

            if (_client is { } network && (parts.IsPool || parts.Address.IsIPv6 != network.Address.IsIPv6
                || !parts.Address.IsWithin(network.Address, Math.Min(network.Prefix, parts.Prefix))))
            {
                return false;
            }

            return (_sender is null || parts.Sender == _sender)
                && (_recipient is null || parts.Recipient == _recipient)
                && (_domain is null || DomainOf(parts.Sender) == _domain || DomainOf(parts.Recipient) == _domain);
        }

        private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];

        private static (ClientAddress, int) ParseNetwork(string text)
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            string address = slash < 0 ? text : text[..slash];
            if (!ClientAddress.TryParse(address, out var parsed))
            {
                throw new AdminException($"--client: not an address or network: {text}");
            }

            int prefix = parsed.BitLength;
            if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > parsed.BitLength))
            {
                throw new AdminException($"--client: bad prefix length in {text}");
            }

            return (parsed, prefix);
        }
    }

    /// <summary>The <c>limit</c> most recently seen entries (all of them for a limit of 0), kept in a bounded heap.</summary>
    private sealed class Newest(long limit)
    {
        private readonly PriorityQueue<StoreEntry, long> _heap = new();

        public long Dropped { get; private set; }

        public void Add(StoreEntry entry)
        {
            if (limit == 0 || _heap.Count < limit)
            {
                _heap.Enqueue(entry, entry.B);
                return;
            }

            Dropped++;
            if (_heap.TryPeek(out _, out long oldest) && entry.B > oldest)
            {
                _heap.DequeueEnqueue(entry, entry.B);
            }
        }

        public IEnumerable<StoreEntry> Sorted() =>
            _heap.UnorderedItems.Select(i => i.Element).OrderByDescending(e => e.B);
    }
}
