using System.Diagnostics;
using System.Globalization;
using Greyd.IntegrationTests.Harness;

namespace Greyd.IntegrationTests;

/// <summary>
/// The benchmark's own tools (artifacts/bench, published by ./build.sh test and ./build.sh bench): greyd-load must
/// count what the server really answered, and greyd-floor must answer like a policy server, or the published
/// comparison means nothing.
/// </summary>
public class BenchToolTests
{
    private static string Tool(string name)
    {
        string dir = Environment.GetEnvironmentVariable("GREYD_BENCH_DIR")
            ?? Path.Combine(GreydBinary.RepositoryRoot ?? ".", "artifacts", "bench");
        string path = Path.Combine(dir, name);
        Assert.True(File.Exists(path), $"{path} is missing: ./build.sh test publishes it (or set GREYD_BENCH_DIR).");
        return path;
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(Tool(tool)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            Assert.Fail($"{tool} {string.Join(' ', args)} did not finish in 60 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static Dictionary<string, string> Result(string stdout)
    {
        string line = stdout.Split('\n').Single(l => l.StartsWith("result: ", StringComparison.Ordinal));
        return line["result: ".Length..].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
    }

    private static long Number(Dictionary<string, string> result, string name) => long.Parse(result[name], CultureInfo.InvariantCulture);

    [Fact]
    public void The_load_counts_every_answer_greyd_logged_and_repeats_only_triplets_it_sent()
    {
        using var greyd = GreydInstance.Start();
        string socket = "--unix=" + greyd.SocketPath;

        // 1: new triplets only (as ./build.sh bench fills the store).
        var (code, stdout, stderr) = Run("greyd-load", socket, "-c", "4", "-n", "250", "-w", "0", "-r", "0", "--seed=42", "-l", "greyd");
        Assert.True(code == 0, stdout + stderr);
        var first = Result(stdout);
        Assert.Equal("greyd", first["label"]);
        Assert.Equal(1000, Number(first, "requests"));
        Assert.Equal(1000, Number(first, "other")); // with the default delay everything is greylisted
        Assert.Equal(0, Number(first, "dunno") + Number(first, "prepend") + Number(first, "failed"));
        Assert.True(Number(first, "rps") > 0 && double.Parse(first["p99_us"], CultureInfo.InvariantCulture) > 0, stdout);

        Assert.Equal(1000, Triplets(greyd));

        // 2: the same seed and connections with --known: every request repeats a triplet of run 1, none is added.
        (code, stdout, stderr) = Run("greyd-load", socket, "-c", "4", "-n", "100", "-w", "0", "-r", "1", "--seed=42", "--known=250");
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(400, Number(Result(stdout), "other"));
        Assert.Equal(1000, Triplets(greyd));

        // 3: another seed, half repeats: about half the requests are new triplets.
        (code, stdout, stderr) = Run("greyd-load", socket, "-c", "4", "-n", "250", "-w", "0", "-r", "0.5", "--seed=43");
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal(1000, Number(Result(stdout), "requests"));
        Assert.InRange(Triplets(greyd), 1400, 1600);

        Assert.Equal(0, greyd.Process.Stop());
        Assert.Equal(2400, greyd.Process.StderrLines.Count(l => l.StartsWith("<5>action=greylist, ", StringComparison.Ordinal)));
    }

    // The triplet count of greyd's status line (SIGUSR1).
    private static long Triplets(GreydInstance greyd)
    {
        int from = greyd.Process.StderrLineCount;
        Assert.True(Native.Signal(greyd.Process.Pid, 10), "SIGUSR1 could not be sent");
        string status = greyd.ExpectLog("status", l => l.StartsWith("<5>status: ", StringComparison.Ordinal), "a status line after SIGUSR1", from);
        string field = status.Split(' ').Single(f => f.StartsWith("triplets=", StringComparison.Ordinal));
        return long.Parse(field["triplets=".Length..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_floor_answers_DUNNO_to_every_request_on_every_connection()
    {
        using var dir = new TempDir();
        string socket = dir.File("floor.sock");
        using var floor = Process.Start(new ProcessStartInfo(Tool("greyd-floor"), ["--unix=" + socket]) { RedirectStandardError = true })!;
        try
        {
            var (code, stdout, stderr) = Run("greyd-load", "--unix=" + socket, "--wait=10", "-c", "3", "-n", "100", "-w", "0");
            Assert.True(code == 0, stdout + stderr);
            var result = Result(stdout);
            Assert.Equal(300, Number(result, "requests"));
            Assert.Equal(300, Number(result, "dunno"));
        }
        finally
        {
            floor.Kill();
            floor.WaitForExit();
        }
    }

    [Fact]
    public void The_load_reports_a_server_that_is_not_there_and_wrong_options_clearly()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run("greyd-load", "--unix=" + dir.File("nothing.sock"), "-n", "1");
        Assert.Equal(1, code);
        Assert.StartsWith("greyd-load: cannot connect to unix:", stderr, StringComparison.Ordinal);

        (code, _, stderr) = Run("greyd-load", "--unix=x", "--repeat=2");
        Assert.Equal(2, code);
        Assert.StartsWith("greyd-load: --repeat needs a share from 0 to 1, not '2'", stderr, StringComparison.Ordinal);
    }
}
