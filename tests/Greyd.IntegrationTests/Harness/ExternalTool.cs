using System.Diagnostics;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>What one run of an external command produced.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    public string Describe() =>
        $"command: {CommandLine}\nexit code: {ExitCode}\nstdout:\n{Indent(Stdout)}\nstderr:\n{Indent(Stderr)}";

    private static string Indent(string text) =>
        string.Join("\n", text.Split('\n').Select(l => "  | " + GreydProcess.Visible(l.TrimEnd('\r'))));
}

/// <summary>
/// The real peers the end-to-end tests drive (systemd-socket-activate, Postfix, swaks, libfaketime). A missing tool
/// fails the test with the Debian package that provides it; it never skips.
/// </summary>
public static class ExternalTool
{
    public const string SocketActivate = "/usr/bin/systemd-socket-activate";
    public const string Postfix = "/usr/sbin/postfix";
    public const string Postconf = "/usr/sbin/postconf";
    public const string Swaks = "/usr/bin/swaks";
    public const string Script = "/usr/bin/script";
    public const string Shell = "/bin/sh";
    // The synchronised build: greyd reads the clock from many threads, and the plain one races on its file buffer
    // (a request now and then saw the real time instead of the faked one).
    public const string LibFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

    /// <summary>Returns <paramref name="path"/>; fails the test naming the package when the file does not exist.</summary>
    public static string Require(string path, string package)
    {
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: this end-to-end test needs the Debian package '{package}' " +
                $"(DEBIAN_FRONTEND=noninteractive apt-get install -y {package}).");
        }

        return path;
    }

    /// <summary>
    /// Runs a command to its end and captures its output. Output is read through events, so a daemon that a command
    /// leaves behind (postfix start) and that inherited the pipes cannot hold the call up. On a timeout the command
    /// (its own pid) is killed and the test fails.
    /// </summary>
    public static ToolResult Run(string executable, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }
        }

        string commandLine = executable + " " + string.Join(" ", info.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var stdoutDone = new ManualResetEventSlim();
        using var stderrDone = new ManualResetEventSlim();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data, stdoutDone);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data, stderrDone);
        if (!process.Start())
        {
            Assert.Fail($"could not start {commandLine}");
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            try
            {
                process.Kill(entireProcessTree: false);
            }
            catch (InvalidOperationException)
            {
            }

            process.WaitForExit(5000);
            Assert.Fail($"{commandLine} did not finish within {timeout.TotalSeconds:0.#} s; killed pid {process.Id}.\n" +
                new ToolResult(commandLine, -1, Text(stdout), Text(stderr)).Describe());
        }

        // Wait for both pipes to reach EOF, but not for ever: a daemon the command left behind may keep them open.
        stdoutDone.Wait(TimeSpan.FromSeconds(5));
        stderrDone.Wait(TimeSpan.FromSeconds(5));
        return new ToolResult(commandLine, process.ExitCode, Text(stdout), Text(stderr));
    }

    /// <summary>Runs a command and fails the test (with its output) unless it exits with 0.</summary>
    public static ToolResult RunChecked(string executable, IEnumerable<string> args, TimeSpan timeout, string what)
    {
        var result = Run(executable, args, timeout);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"{what} failed.\n{result.Describe()}");
        }

        return result;
    }

    /// <summary>True while <paramref name="pid"/> is a live process (a zombie counts as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || (stat[close + 2] != 'Z' && stat[close + 2] != 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The executable behind a pid (/proc/PID/exe), or null when it cannot be read.</summary>
    public static string? ExecutableOf(int pid)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/exe").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Waits until <paramref name="pid"/> is gone; false on timeout.</summary>
    public static bool WaitGone(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    /// <summary>uid and gid of a local account from /etc/passwd; fails the test when it does not exist.</summary>
    public static (int Uid, int Gid) Account(string name, string package)
    {
        foreach (string line in File.ReadLines("/etc/passwd"))
        {
            string[] fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == name)
            {
                return (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Assert.Fail($"the user '{name}' does not exist: this end-to-end test needs the Debian package '{package}' installed (it creates the user).");
        return default;
    }

    private static void Append(StringBuilder builder, string? line, ManualResetEventSlim done)
    {
        if (line is null)
        {
            done.Set();
            return;
        }

        lock (builder)
        {
            builder.Append(line).Append('\n');
        }
    }

    private static string Text(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }
}
