namespace Greyd.Storage.Redis.Tests;

/// <summary>Connecting over TLS, and the one-line reasons greyd logs when it cannot.</summary>
public sealed class ConnectionTests(TlsRedisServer redis) : IClassFixture<TlsRedisServer>
{
    private static readonly Greyd.Policy.GreylistOptions s_options = new();

    private RedisStoreOptions Tls(string? password = TlsRedisServer.Secret, string? ca = "") => new()
    {
        Host = "127.0.0.1",
        Port = redis.TlsPort,
        Tls = true,
        Password = password,
        CaFile = ca == string.Empty ? redis.CaFile : ca,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    private static async Task<string> FailureAsync(RedisStoreOptions options)
    {
        await using var store = new RedisSharedStore(options, s_options);
        var e = await Assert.ThrowsAsync<SharedStoreException>(store.ConnectAsync);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public async Task Connects_over_TLS_trusting_the_given_CA_and_serves_requests()
    {
        await using var store = new RedisSharedStore(Tls(), s_options);
        await store.ConnectAsync();
        var found = await store.ObserveRequestAsync(default, "192.0.2.0/a@example.net/b@example.org"u8.ToArray(), 1_800_000_000, null);
        Assert.Equal(1_800_000_000, found.Triplet.FirstSeen);
        Assert.True(await redis.Database.KeyExistsAsync("greyd:t:192.0.2.0/a@example.net/b@example.org"));
    }

    [Fact]
    public async Task An_untrusted_server_certificate_is_refused_as_a_TLS_failure() =>
        Assert.Equal("TLS handshake failed (check the server's certificate, or --store-ca)", await FailureAsync(Tls(ca: null)));

    [Fact]
    public async Task A_wrong_password_is_reported_as_an_authentication_failure() =>
        Assert.Equal("authentication failed (check the user and password)", await FailureAsync(Tls(password: "wrong")));

    [Fact]
    public async Task A_port_nobody_listens_on_is_reported_as_cannot_connect() =>
        Assert.Equal("cannot connect", await FailureAsync(new RedisStoreOptions { Host = "127.0.0.1", Port = 1, ConnectTimeout = TimeSpan.FromSeconds(2) }));
}
