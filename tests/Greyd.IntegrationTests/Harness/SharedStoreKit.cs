using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// What the shared-store tests expect of greyd: its options against a <see cref="SharedStoreServer"/>, its log
/// lines about the shared store, the Redis keys of request D's triplet and client, and timed requests.
/// </summary>
public static class SharedStoreKit
{
    public const int SigUsr1 = 10;

    /// <summary>Request D's triplet key with the default /24 network, as postgrey builds it.</summary>
    public const string TripletText = "192.0.2.0/alice@example.net/";

    /// <summary>Request D's AWL client key.</summary>
    public const string ClientText = "192.0.2.10";

    public const string OutageTail = "; greylisting from the local store until it is back";

    /// <summary>Countdown replies ("wait %s") and policy_test_time, pointed at the server, then <paramref name="extra"/>.</summary>
    public static string[] Options(SharedStoreServer server, params string[] extra) => OptionsWithStore(server.StoreOption(), extra);

    /// <summary>As <see cref="Options"/>, with this --store option (another password, or none).</summary>
    public static string[] OptionsWithStore(string storeOption, params string[] extra) =>
        ["--allow-policy-test-time", "--greylist-text=wait %s", "--hostname=test.host", storeOption, .. extra];

    public static string Wait(long seconds) => "action=DEFER_IF_PERMIT wait " + seconds.ToString(CultureInfo.InvariantCulture);

    public static PolicyRequest To(string recipient, long t) => PolicyRequest.D(t).With("recipient", recipient);

    public static string Seconds(long t) => (PolicyRequest.T0 + t).ToString(CultureInfo.InvariantCulture);

    public static string TripletKey(string recipient, string prefix = "greyd:") => prefix + "t:" + TripletText + recipient;

    public static string ClientKey(string prefix = "greyd:") => prefix + "c:" + ClientText;

    public static string Sha1Hex(string text)
    {
#pragma warning disable CA5350 // greyd's --privacy keys are postgrey's SHA-1 digests; the test recomputes them.
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
    }

    /// <summary>The start-up line, which names the server greyd found: "connected (Redis 7.0.15)".</summary>
    public static bool IsConnectedLine(SharedStoreServer server, string line)
    {
        string start = $"<5>shared store {server.Url}: connected (";
        string[] names = server.Kind == SharedStoreKind.Garnet ? ["Garnet "] : ["Redis ", "Valkey "];
        return line.StartsWith(start, StringComparison.Ordinal) && line.EndsWith(')')
            && names.Any(n => line.AsSpan(start.Length).StartsWith(n, StringComparison.Ordinal));
    }

    public static string BackLine(SharedStoreServer server) => $"<5>shared store {server.Url}: back, greylisting from it again";

    public static bool IsOutageLine(SharedStoreServer server, string line) =>
        line.StartsWith($"<3>shared store {server.Url}: ", StringComparison.Ordinal) && line.EndsWith(OutageTail, StringComparison.Ordinal);

    public static int CountOutageLines(GreydInstance greyd, SharedStoreServer server) =>
        greyd.Process.StderrLines.Count(l => IsOutageLine(server, l));

    public static int CountLines(GreydInstance greyd, string line) => greyd.Process.StderrLines.Count(l => l == line);

    /// <summary>The triplet and client keys under <paramref name="prefix"/>, without greyd's short-lived probe key.</summary>
    public static List<string> GreylistKeys(RespClient kv, string prefix = "greyd:") =>
        kv.Keys().Where(k => k.StartsWith(prefix + "t:", StringComparison.Ordinal) || k.StartsWith(prefix + "c:", StringComparison.Ordinal)).ToList();

    /// <summary>Asserts a field of a hash in the server; a failure shows the server's keys and greyd's log.</summary>
    public static void AssertField(SharedStoreServer server, string key, string field, string? expected, GreydInstance greyd)
    {
        using var kv = server.Client();
        string? actual = kv.HGetAll(key).GetValueOrDefault(field);
        if (actual != expected)
        {
            Assert.Fail($"{key} {field}: expected {expected ?? "(none)"}, got {actual ?? "(none)"}; the {server.Kind} server holds: " +
                string.Join(", ", kv.Keys()) + "\n" + greyd.Process.Describe());
        }
    }

    /// <summary>Waits for the start-up line saying greyd reached the server.</summary>
    public static void ExpectConnected(GreydInstance greyd, SharedStoreServer server) =>
        greyd.ExpectLog("connected", l => IsConnectedLine(server, l), $"'<5>shared store {server.Url}: connected ({server.Kind} ...)'");

    /// <summary>Sends SIGUSR1 and returns the status line it logs.</summary>
    public static string Status(GreydInstance greyd)
    {
        int from = greyd.Process.StderrLineCount;
        Assert.True(Native.Signal(greyd.Process.Pid, SigUsr1), "SIGUSR1 could not be sent");
        return greyd.ExpectLog("status", l => l.StartsWith("<5>status: ", StringComparison.Ordinal), "a status line after SIGUSR1", from);
    }

    /// <summary>The value of <c>name=</c> in a status line; fails when the field is missing.</summary>
    public static string StatusField(string status, string name)
    {
        string? field = status.Split(' ').FirstOrDefault(f => f.StartsWith(name + "=", StringComparison.Ordinal));
        Assert.True(field is not null, $"the status line has no {name}= field: {status}");
        return field![(name.Length + 1)..];
    }

    /// <summary>Asks one request and returns the reply with the time it took.</summary>
    public static (string Reply, double Milliseconds) Timed(PolicyClient client, PolicyRequest request)
    {
        long start = Stopwatch.GetTimestamp();
        string reply = client.Ask(request);
        return (reply, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    /// <summary>
    /// Sends new triplets (recipients <paramref name="tag"/>0, 1, ...) at time <paramref name="t"/> until a log line
    /// matching <paramref name="until"/> shows up, checking each is answered as new within <paramref name="boundMs"/>;
    /// returns the recipients sent. Fails after <paramref name="timeout"/>.
    /// </summary>
    public static List<string> DriveUntil(GreydInstance greyd, PolicyClient client, string tag, long t, double boundMs, Func<string, bool> until, string what, TimeSpan timeout, int fromLine)
    {
        var sent = new List<string>();
        var deadline = DateTime.UtcNow + timeout;
        while (!greyd.Process.TryWaitForLog(until, TimeSpan.Zero, fromLine))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no {what} within {timeout.TotalSeconds:0.#} s of requests.\n{greyd.Process.Describe()}");
            string rcpt = $"{tag}{sent.Count}@example.org";
            var (reply, ms) = Timed(client, To(rcpt, t));
            Replies.Step($"{rcpt} while waiting for {what}", Wait(300), reply);
            Assert.True(ms < boundMs, $"{rcpt} took {ms:0} ms while waiting for {what} (bound {boundMs} ms)");
            sent.Add(rcpt);
            Thread.Sleep(20); // requests spread over time, as Postfix sends them, so greyd's reconnect timer gets its turns
        }

        return sent;
    }
}
