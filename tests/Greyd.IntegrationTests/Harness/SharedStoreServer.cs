using System.Globalization;
using System.Net.Sockets;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A Redis or Garnet server for greyd's shared store, on 127.0.0.1 at a random free port, keeping nothing on disk.
/// It can be killed, paused (SIGSTOP) and resumed, and restarted empty on the same port; every process it starts is
/// stopped by its own pid.
/// </summary>
public sealed class SharedStoreServer : IDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDir _dir = new("greyd-kv-");

    private SharedStoreServer(SharedStoreKind kind, string? password, TestCertificates? tls)
    {
        if (tls is not null && kind != SharedStoreKind.Redis)
        {
            throw new ArgumentException("the harness runs TLS on redis-server only", nameof(tls));
        }

        Kind = kind;
        Password = password;
        Tls = tls;
        Executable = FindExecutable(kind);
        Port = FreePort.Pick();
        try
        {
            Process = Launch();
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public SharedStoreKind Kind { get; }

    public int Port { get; }

    public string? Password { get; }

    /// <summary>Set when the server speaks TLS only (rediss://).</summary>
    public TestCertificates? Tls { get; }

    private string Scheme => Tls is null ? "redis" : "rediss";

    public string Executable { get; }

    public GreydProcess Process { get; private set; }

    public bool Paused { get; private set; }

    /// <summary>The URL greyd logs for this server (never with a password).</summary>
    public string Url => $"{Scheme}://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/0";

    /// <summary>The --store option for this server, with its password (if any) in the URL.</summary>
    public string StoreOption() => StoreOptionWith(Password);

    /// <summary>The --store option with <paramref name="password"/> in the URL, or none when it is null.</summary>
    public string StoreOptionWith(string? password)
    {
        string auth = password is null ? string.Empty : ":" + Uri.EscapeDataString(password) + "@";
        return $"--store={Scheme}://{auth}127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/0";
    }

    /// <summary>Starts a server and waits until it answers PING; with <paramref name="tls"/>, a TLS-only redis-server.</summary>
    public static SharedStoreServer Start(SharedStoreKind kind, string? password = null, TestCertificates? tls = null) => new(kind, password, tls);

    /// <summary>SIGKILL to the server's pid; it is gone when this returns.</summary>
    public void Kill()
    {
        Process.Kill9();
        Paused = false;
    }

    public void Pause()
    {
        Assert.True(Native.Signal(Process.Pid, Native.SIGSTOP), $"SIGSTOP to {Kind} pid {Process.Pid} failed");
        Paused = true;
    }

    public void Resume()
    {
        Assert.True(Native.Signal(Process.Pid, Native.SIGCONT), $"SIGCONT to {Kind} pid {Process.Pid} failed");
        Paused = false;
    }

    /// <summary>Kills the server if it still runs and starts a new, empty one on the same port.</summary>
    public void Restart()
    {
        Kill();
        var old = Process;
        Process = Launch(); // a failed launch leaves the old (ended) process for Dispose
        old.Dispose();
    }

    /// <summary>A new assertion client, authenticated when the server has a password; the caller disposes it.</summary>
    public RespClient Client() => new(Port, Password, trustedCa: Tls?.Ca);

    private GreydProcess Launch()
    {
        var process = GreydProcess.StartExecutable(Executable, Arguments());
        try
        {
            WaitReady(process);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return process;
    }

    private List<string> Arguments()
    {
        string port = Port.ToString(CultureInfo.InvariantCulture);
        if (Kind == SharedStoreKind.Redis)
        {
            var args = new List<string>
            {
                "--port", Tls is null ? port : "0", "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no",
                "--dir", _dir.Path, "--daemonize", "no", "--loglevel", "warning", "--logfile", string.Empty,
            };
            if (Tls is not null)
            {
                args.AddRange(["--tls-port", port, "--tls-cert-file", Tls.CertificateFile, "--tls-key-file", Tls.KeyFile, "--tls-ca-cert-file", Tls.CaFile, "--tls-auth-clients", "no"]);
            }

            if (Password is not null)
            {
                args.AddRange(["--requirepass", Password]);
            }

            return args;
        }

        var garnet = new List<string>
        {
            "--lua", "--lua-transaction-mode", "--bind", "127.0.0.1", "--port", port, "--memory", "64m", "--index", "16m",
            "-q", "--logger-level", "Error",
        };
        if (Password is not null)
        {
            garnet.AddRange(["--auth", "Password", "--password", Password]);
        }

        return garnet;
    }

    // Ready means the server answers a command; with a password, PING's NOAUTH error is an answer too.
    private void WaitReady(GreydProcess process)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                process.TryWaitForExit(TimeSpan.FromSeconds(2), out _);
                Assert.Fail($"{Kind} on port {Port} exited while starting.\n{process.Describe()}");
            }

            try
            {
                using var client = new RespClient(Port, timeout: TimeSpan.FromSeconds(2), trustedCa: Tls?.Ca);
                try
                {
                    client.Ping();
                }
                catch (InvalidOperationException) when (Password is not null)
                {
                }

                return;
            }
            catch (Exception e) when (e is SocketException or IOException && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    private static string FindExecutable(SharedStoreKind kind)
    {
        if (kind == SharedStoreKind.Garnet)
        {
            string? configured = Environment.GetEnvironmentVariable("GREYD_GARNET_SERVER");
            string? root = GreydBinary.RepositoryRoot;
            string[] candidates = [configured ?? string.Empty, root is null ? string.Empty : Path.Combine(root, "artifacts", "tools", "garnet", "garnet-server")];
            string? found = candidates.FirstOrDefault(c => c.Length > 0 && File.Exists(c));
            if (found is null)
            {
                Assert.Fail("garnet-server was not found (GREYD_GARNET_SERVER, or artifacts/tools/garnet/garnet-server): install it with " +
                    "`./build.sh deps` or `dotnet tool install garnet-server --tool-path artifacts/tools/garnet`.");
            }

            return found!;
        }

        string? redis = Environment.GetEnvironmentVariable("GREYD_REDIS_SERVER");
        string[] paths = [redis ?? string.Empty, "/usr/bin/redis-server", "/usr/bin/valkey-server", "/usr/local/bin/redis-server"];
        string? server = paths.FirstOrDefault(p => p.Length > 0 && File.Exists(p));
        if (server is null)
        {
            Assert.Fail("redis-server was not found (GREYD_REDIS_SERVER, /usr/bin/redis-server or /usr/bin/valkey-server): " +
                "install the Debian package 'redis-server' (./build.sh deps does, without starting its service).");
        }

        return server!;
    }

    public void Dispose()
    {
        Process.Dispose();
        _dir.Dispose();
    }
}
