using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Greyd.Storage.Redis.Tests;

/// <summary>A private redis-server on a free loopback port, without persistence, stopped by its pid.</summary>
public class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private ConnectionMultiplexer? _admin;

    public int Port { get; private set; }

    public string Url => $"redis://127.0.0.1:{Port}/0";

    /// <summary>A client for checking what greyd wrote.</summary>
    public IDatabase Database => _admin!.GetDatabase();

    public IServer Server => _admin!.GetServer("127.0.0.1", Port);

    /// <summary>
    /// greyd's shared store on this server, under <paramref name="prefix"/>, not connected yet. The connect timeout is
    /// generous: the JIT-compiled client connects slowly the first time on a busy machine.
    /// </summary>
    public RedisSharedStore Store(string prefix, Greyd.Policy.GreylistOptions options) =>
        new(RedisStoreOptions.Parse(Url) with { Prefix = prefix, ConnectTimeout = TimeSpan.FromSeconds(10) }, options);

    /// <summary>As <see cref="Store"/>, connected.</summary>
    public async Task<RedisSharedStore> ConnectStoreAsync(string prefix, Greyd.Policy.GreylistOptions options)
    {
        var store = Store(prefix, options);
        await store.ConnectAsync();
        return store;
    }

    /// <summary>The password the server requires, or null.</summary>
    protected virtual string? Password => null;

    /// <summary>More redis-server arguments.</summary>
    protected virtual IEnumerable<string> Arguments() => [];

    protected static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public virtual async Task InitializeAsync()
    {
        string binary = Environment.GetEnvironmentVariable("GREYD_REDIS_SERVER") ?? "redis-server";
        Port = FreePort();

        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath(), .. Arguments()])
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {binary} (build.sh deps installs redis-server)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                _admin = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Port},allowAdmin=true,connectTimeout=500{(Password is null ? "" : ",password=" + Password)}");
                await _admin.GetDatabase().PingAsync();
                return;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }
}
