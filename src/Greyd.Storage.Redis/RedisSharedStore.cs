using System.Text;
using Greyd.Policy;
using StackExchange.Redis;

namespace Greyd.Storage.Redis;

/// <summary>
/// The shared store on a Redis-protocol server (Redis, Valkey, Garnet with <c>--lua --lua-transaction-mode</c>). Triplets are hashes at
/// PREFIX "t:" KEY with fields <c>first</c> and <c>last</c>; AWL clients are hashes at PREFIX "c:" KEY with
/// <c>count</c> and <c>last</c>. Each request is one <see cref="RequestScript"/> call, each import one
/// <see cref="ImportScript"/> call.
/// </summary>
public sealed class RedisSharedStore : ISharedStore
{
    private static readonly ServerScript s_request = new(RequestScript.Text);
    private static readonly ServerScript s_importTriplet = new(ImportScript.Triplet);
    private static readonly ServerScript s_importClient = new(ImportScript.Client);

    private readonly RedisStoreOptions _options;
    private readonly GreylistOptions _greylist;
    private readonly byte[] _tripletPrefix;
    private readonly byte[] _clientPrefix;
    private volatile ConnectionMultiplexer? _connection;
    private volatile IDatabase? _database;
    private Task _reconnecting = Task.CompletedTask;

    public RedisSharedStore(RedisStoreOptions options, GreylistOptions greylist)
    {
        _options = options;
        _greylist = greylist;
        _tripletPrefix = Encoding.UTF8.GetBytes(options.Prefix + "t:");
        _clientPrefix = Encoding.UTF8.GetBytes(options.Prefix + "c:");
    }

    public string Name => _options.Name;

    public async Task<(string? Server, string? Note)> ConnectAsync()
    {
        try
        {
            // The first connection fails loudly, so that a wrong password or certificate is reported as such
            // instead of as a connection still being made.
            var connection = await ConnectionMultiplexer.ConnectAsync(Configuration(abortOnConnectFail: true)).ConfigureAwait(false);
            _connection = connection;
            var database = connection.GetDatabase(_options.Database);
            _database = database;
            // Runs the script once: checks the server runs Lua and this script, and warms up servers (Garnet)
            // whose first script call is slow, before a request has to wait on it.
            await ProbeAsync(database).ConfigureAwait(false);
            string? server = await DescribeServerAsync(database).ConfigureAwait(false);
            return (server, server?.StartsWith("Garnet", StringComparison.Ordinal) == true
                ? "Garnet must run with --lua-transaction-mode, or two hosts' requests for one triplet can interleave"
                : null);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException or ArgumentException or IOException)
        {
            if (_connection is null)
            {
                // From now on the client reconnects by itself; the probe sees when the store is back.
                _reconnecting = ConnectInBackgroundAsync();
            }

            throw Translate(e);
        }
    }

    private async Task ConnectInBackgroundAsync()
    {
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(Configuration(abortOnConnectFail: false)).ConfigureAwait(false);
            _database = connection.GetDatabase(_options.Database);
            _connection = connection;
        }
        catch (Exception e) when (e is RedisException or InvalidOperationException or ArgumentException or IOException)
        {
            // A configuration the client refuses outright; the store stays down and the probe keeps saying so.
        }
    }

    private ConfigurationOptions Configuration(bool abortOnConnectFail)
    {
        var config = new ConfigurationOptions
        {
            User = _options.User,
            Password = _options.Password,
            Ssl = _options.Tls,
            SslHost = _options.Tls ? _options.Host : null,
            DefaultDatabase = _options.Database,
            ClientName = "greyd",
            AbortOnConnectFail = abortOnConnectFail,
            ConnectTimeout = (int)_options.ConnectTimeout.TotalMilliseconds,
            ConnectRetry = 1,
            // A call while disconnected fails at once instead of queueing behind the reconnect.
            BacklogPolicy = BacklogPolicy.FailFast,
            ReconnectRetryPolicy = new LinearRetry(500),
            KeepAlive = 10,
            // greyd needs no pub/sub: one connection instead of two.
            CommandMap = CommandMap.Create(new HashSet<string> { "SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE" }, available: false),
        };
        config.EndPoints.Add(_options.Host, _options.Port);
        if (_options.CaFile is not null)
        {
            config.TrustIssuer(_options.CaFile);
        }

        return config;
    }

    public async Task<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now, RequestObservation? local)
    {
        long awl = clientKey.IsEmpty ? 0 : _greylist.AutoWhitelistClients;
        RedisKey[] keys = [Key(_clientPrefix, clientKey.Span), Key(_tripletPrefix, tripletKey.Span)];
        RedisValue[] values =
        [
            now,
            _greylist.Delay,
            _greylist.RetryWindow,
            _greylist.MaxAge,
            awl,
            local is { ClientWhitelisted: false } seen ? seen.Triplet.FirstSeen : 0,
            local is { ClientWhitelisted: true } ? 1 : 0,
        ];
        return Read(await EvaluateAsync(s_request, keys, values).ConfigureAwait(false), now);
    }

    public async Task<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now, TripletRecord? local)
    {
        var (first, last) = await ReadFieldsAsync(Key(_tripletPrefix, tripletKey.Span), "first", "last").ConfigureAwait(false);
        TripletRecord? shared = first is { } f && last is { } l && !TripletMath.IsExpired(new TripletRecord(f, l), now, _greylist)
            ? new TripletRecord(f, l)
            : null;
        return local is { } mine && shared is { } theirs ? RecordMerge.Triplets(mine, theirs, _greylist.Delay) : local ?? shared;
    }

    public async Task<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now, ClientRecord? local)
    {
        var (count, last) = await ReadFieldsAsync(Key(_clientPrefix, clientKey.Span), "count", "last").ConfigureAwait(false);
        ClientRecord? shared = count is { } n && last is { } l && !AutoWhitelist.IsExpired(new ClientRecord(n, l), now, _greylist)
            ? new ClientRecord(n, l)
            : null;
        return local is { } mine && shared is { } theirs ? RecordMerge.Clients(mine, theirs) : local ?? shared;
    }

    public Task<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey) => DeleteAsync(Key(_tripletPrefix, tripletKey.Span));

    public Task<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey) => DeleteAsync(Key(_clientPrefix, clientKey.Span));

    public async Task<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now) =>
        (ImportOutcome)(int)await EvaluateAsync(
            s_importTriplet,
            [Key(_tripletPrefix, tripletKey.Span)],
            [now, _greylist.Delay, _greylist.RetryWindow, _greylist.MaxAge, record.FirstSeen, record.LastSeen]).ConfigureAwait(false);

    public async Task<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now) =>
        (ImportOutcome)(int)await EvaluateAsync(
            s_importClient,
            [Key(_clientPrefix, clientKey.Span)],
            [now, _greylist.MaxAge, record.Count, record.LastSeen]).ConfigureAwait(false);

    // EVALSHA; a restarted or flushed server has forgotten the script, and EVAL sends it again (the server keeps it).
    private async Task<RedisResult> EvaluateAsync(ServerScript script, RedisKey[] keys, RedisValue[] values)
    {
        var database = _database ?? throw new SharedStoreException("not connected");
        try
        {
            try
            {
                return await database.ScriptEvaluateAsync(script.Hash, keys, values).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                return await database.ScriptEvaluateAsync(script.Text, keys, values).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Translate(e);
        }
    }

    // Two numeric fields of a hash; null for a field that is missing or not a number.
    private async Task<(long? A, long? B)> ReadFieldsAsync(RedisKey key, string a, string b)
    {
        var database = _database ?? throw new SharedStoreException("not connected");
        try
        {
            var fields = await database.HashGetAsync(key, [a, b]).ConfigureAwait(false);
            return (fields[0].TryParse(out long x) ? x : null, fields[1].TryParse(out long y) ? y : null);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Translate(e);
        }
    }

    private async Task<bool> DeleteAsync(RedisKey key)
    {
        var database = _database ?? throw new SharedStoreException("not connected");
        try
        {
            return await database.KeyDeleteAsync(key).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Translate(e);
        }
    }

    // "Redis 7.0.15", "Valkey 8.0.2" or "Garnet 2.2.11" from HELLO (allowed to every user); null when it says nothing.
    private static async Task<string?> DescribeServerAsync(IDatabase database)
    {
        try
        {
            var hello = await database.ExecuteAsync("HELLO").ConfigureAwait(false);
            if ((RedisResult[]?)hello is not { } items)
            {
                return null;
            }

            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i + 1 < items.Length; i += 2)
            {
                fields[items[i].ToString()] = items[i + 1].ToString();
            }

            if (fields.TryGetValue("garnet_version", out var garnet))
            {
                return "Garnet " + garnet;
            }

            return fields.TryGetValue("server", out var name) && fields.TryGetValue("version", out var version) && name.Length > 0
                ? char.ToUpperInvariant(name[0]) + name[1..] + " " + version
                : null;
        }
        catch (Exception e) when (e is RedisException or RedisCommandException or InvalidCastException)
        {
            return null;
        }
    }

    public async Task ProbeAsync()
    {
        var database = _database ?? throw new SharedStoreException("not connected");
        try
        {
            await ProbeAsync(database).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Translate(e);
        }
    }

    // A never-passing triplet with a 1 s retry window: the probe key is gone two seconds later.
    private async Task ProbeAsync(IDatabase database)
    {
        RedisKey probe = _options.Prefix + "probe";
        RedisValue[] values = [DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 2, 1, 1, 0, 0, 0];
        Read(await database.ScriptEvaluateAsync(s_request.Text, [probe, probe], values).ConfigureAwait(false), 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _reconnecting.ConfigureAwait(false);
        if (_connection is { } connection)
        {
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static RedisKey Key(byte[] prefix, ReadOnlySpan<byte> key)
    {
        byte[] bytes = new byte[prefix.Length + key.Length];
        prefix.CopyTo(bytes, 0);
        key.CopyTo(bytes.AsSpan(prefix.Length));
        return bytes;
    }

    private static RequestObservation Read(RedisResult result, long now)
    {
        if (result.Resp2Type != ResultType.Array || (RedisResult[]?)result is not { Length: > 0 } items)
        {
            throw new SharedStoreException("unexpected answer from the server");
        }

        if ((long)items[0] == 1)
        {
            return RequestObservation.Whitelisted;
        }

        if (items.Length != 6)
        {
            throw new SharedStoreException("unexpected answer from the server");
        }

        var triplet = new TripletObservation(new TripletRecord((long)items[1], now), (long)items[2] == 1, (long)items[3] == 1, (long)items[5] == 1);
        return new RequestObservation(false, triplet, (long)items[4]);
    }

    // SE.Redis's messages run to several lines of diagnostics; greyd logs one short line.
    private static SharedStoreException Translate(Exception e) => e switch
    {
        _ when Causes(e).Any(cause => cause is System.Security.Authentication.AuthenticationException) =>
            new SharedStoreException("TLS handshake failed (check the server's certificate, or --store-ca)", e),
        _ when IsAuthenticationFailure(e) => new SharedStoreException("authentication failed (check the user and password)", e),
        RedisConnectionException c => new SharedStoreException(c.FailureType switch
        {
            ConnectionFailureType.UnableToConnect or ConnectionFailureType.UnableToResolvePhysicalConnection => "cannot connect",
            ConnectionFailureType.SocketFailure or ConnectionFailureType.SocketClosed => "connection lost",
            ConnectionFailureType.ConnectionDisposed => "connection closed",
            _ => $"connection failed ({c.FailureType})",
        }, e),
        RedisServerException s when s.Message.Contains("Lua scripting support disabled", StringComparison.OrdinalIgnoreCase)
            || (s.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase) && s.Message.Contains("EVAL", StringComparison.OrdinalIgnoreCase)) =>
            new SharedStoreException("the server does not run Lua scripts (Garnet needs --lua --lua-transaction-mode)", e),
        RedisServerException s => new SharedStoreException("server error: " + FirstLine(s.Message), e),
        TimeoutException => new SharedStoreException("timed out", e),
        _ => new SharedStoreException(FirstLine(e.Message), e),
    };

    // The reason for a failure can sit a few inner exceptions down (a wrong password shows up as "no connection").
    private static IEnumerable<Exception> Causes(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            yield return cause;
        }
    }

    private static bool IsAuthenticationFailure(Exception e) => Causes(e).Any(cause =>
        cause is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }
        || cause.Message.StartsWith("NOAUTH", StringComparison.Ordinal) || cause.Message.StartsWith("WRONGPASS", StringComparison.Ordinal)
        || cause.Message.Contains("Error: NOAUTH", StringComparison.Ordinal) || cause.Message.Contains("Error: WRONGPASS", StringComparison.Ordinal));

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        string line = end >= 0 ? message[..end] : message;
        return line.Length > 200 ? line[..200] : line;
    }
}
