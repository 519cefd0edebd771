namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A greyd process listening on a unix socket in its own temp dir with its own --dbdir. By default it is started
/// the way postgrey's test vectors need it: --allow-policy-test-time, postgrey's greylist text, --hostname=test.host.
/// </summary>
public sealed class GreydInstance : IDisposable
{
    public static readonly string[] VectorOptions =
    [
        "--allow-policy-test-time",
        "--greylist-text=" + Replies.PostgreyGreylistText,
        "--hostname=test.host",
    ];

    private readonly bool _ownsDir;
    private readonly List<PolicyClient> _clients = [];

    private GreydInstance(TempDir dir, bool ownsDir, IReadOnlyList<string> options, IReadOnlyDictionary<string, string>? environment, int? tcpPort = null)
    {
        TcpPort = tcpPort;
        Dir = dir;
        _ownsDir = ownsDir;
        Options = options;
        Environment = environment;
        SocketPath = dir.File("greyd.sock");
        DbDir = dir.Dir("db");
        Process = GreydProcess.Start(Arguments, environment);
        try
        {
            WaitReady();
        }
        catch
        {
            Process.Dispose();
            if (ownsDir)
            {
                dir.Dispose();
            }

            throw;
        }
    }

    public TempDir Dir { get; }

    public string SocketPath { get; }

    /// <summary>Set when greyd listens on TCP 127.0.0.1 (--inet) instead of the unix socket.</summary>
    public int? TcpPort { get; }

    public string DbDir { get; }

    public IReadOnlyList<string> Options { get; }

    public IReadOnlyDictionary<string, string>? Environment { get; }

    public GreydProcess Process { get; private set; }

    public IEnumerable<string> Arguments =>
        new[] { TcpPort is int port ? $"--inet=127.0.0.1:{port}" : "--unix=" + SocketPath, "--dbdir=" + DbDir }.Concat(Options);

    /// <summary>Starts greyd with <see cref="VectorOptions"/> followed by <paramref name="extra"/> (later options win).</summary>
    public static GreydInstance StartForVectors(params string[] extra) => Start(VectorOptions.Concat(extra).ToArray());

    /// <summary>Starts greyd with exactly these options besides --unix and --dbdir.</summary>
    public static GreydInstance Start(params string[] options) => new(new TempDir(), ownsDir: true, options, null);

    /// <summary>Starts greyd on TCP 127.0.0.1 at a random free port instead of a unix socket.</summary>
    public static GreydInstance StartTcp(params string[] options) => new(new TempDir(), ownsDir: true, options, null, FreePort.Pick());

    /// <summary>Starts greyd in a directory the caller prepared (and disposes), e.g. with a file system mounted at DIR/db.</summary>
    public static GreydInstance StartIn(TempDir dir, params string[] options) => new(dir, ownsDir: false, options, null);

    public static GreydInstance StartWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] options) =>
        new(new TempDir(), ownsDir: true, options, environment);

    /// <summary>Starts a new process on the same directory, socket and options (the old one must have ended).</summary>
    public void Restart()
    {
        if (!Process.HasExited)
        {
            Assert.Fail("Restart() needs the previous greyd process to have ended first.");
        }

        Process.Dispose();
        Process = GreydProcess.Start(Arguments, Environment);
        WaitReady();
    }

    /// <summary>
    /// Waits for the 'ready' line; with -q (which, like postgrey's, hides notices) waits until the socket accepts
    /// connections instead.
    /// </summary>
    private void WaitReady()
    {
        if (!Options.Contains("-q") && !Options.Contains("--quiet"))
        {
            Process.WaitReady();
            return;
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            Process.AssertAlive("while starting");
            try
            {
                NewClient().Dispose();
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>A new connection, closed when the instance is disposed.</summary>
    public PolicyClient Connect()
    {
        var client = NewClient();
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>Asks one request on a fresh connection.</summary>
    public string AskOnce(PolicyRequest request)
    {
        using var client = NewClient();
        return client.Ask(request);
    }

    /// <summary>A new connection that the caller disposes.</summary>
    public PolicyClient NewClient() => TcpPort is int port ? PolicyClient.ConnectTcp(port) : PolicyClient.ConnectUnix(SocketPath);

    /// <summary>Waits for a stderr line equal to <paramref name="line"/>.</summary>
    public string ExpectLogLine(string id, string line, int fromLine = 0) =>
        Process.WaitForLog(l => l == line, TimeSpan.FromSeconds(5), $"{id}: the log line '{GreydProcess.Visible(line)}'", fromLine);

    public string ExpectLog(string id, Func<string, bool> predicate, string what, int fromLine = 0) =>
        Process.WaitForLog(predicate, TimeSpan.FromSeconds(5), $"{id}: {what}", fromLine);

    public void Dispose()
    {
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        Process.Dispose();
        if (_ownsDir)
        {
            Dir.Dispose();
        }
    }
}
