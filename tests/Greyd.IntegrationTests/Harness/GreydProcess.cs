using System.Diagnostics;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// One daemon process (greyd, or postgrey for the differential test). Captures stdout and stderr as raw bytes, split
/// into lines on LF only (so a stray CR inside a log line stays visible), and stops the process by its own pid.
/// </summary>
public sealed class GreydProcess : IDisposable
{
    private static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly object _gate = new();
    private readonly List<string> _stderrLines = [];
    private long _lastOutputAt = Environment.TickCount64;
    private readonly List<string> _stdoutLines = [];
    private readonly MemoryStream _rawStderr = new();
    private readonly Thread _stderrPump;
    private readonly Thread _stdoutPump;
    private int? _exitCode;

    private GreydProcess(string executable, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
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

        CommandLine = executable + " " + string.Join(" ", args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + executable);
        Pid = _process.Id;
        _stderrPump = StartPump(_process.StandardError.BaseStream, _stderrLines, _rawStderr, "stderr");
        _stdoutPump = StartPump(_process.StandardOutput.BaseStream, _stdoutLines, null, "stdout");
    }

    public int Pid { get; }

    public string CommandLine { get; }

    /// <summary>
    /// Starts the greyd binary with these arguments (no readiness wait). Its admin socket is off unless the arguments
    /// name one: the default, /run/greyd/admin.sock, is the machine's, not a test's.
    /// </summary>
    public static GreydProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        new(GreydBinary.Path, ["--admin-socket=none", .. args], environment);

    public static GreydProcess StartExecutable(string executable, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        new(executable, args.ToList(), environment);

    public bool HasExited
    {
        get
        {
            lock (_gate)
            {
                if (_exitCode is not null)
                {
                    return true;
                }
            }

            return _process.HasExited;
        }
    }

    /// <summary>Every stderr line so far, once the output has settled (see <see cref="StderrLineCount"/>).</summary>
    public IReadOnlyList<string> StderrLines
    {
        get
        {
            lock (_gate)
            {
                Settle();
                return _stderrLines.ToList();
            }
        }
    }

    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_gate)
            {
                return _stdoutLines.ToList();
            }
        }
    }

    /// <summary>
    /// The number of stderr lines once the output has been quiet for 50 ms (at most 2 s of waiting): greyd writes
    /// decision lines in batches up to 2 ms after the answers, so a mark taken right after a reply would otherwise
    /// land before that reply's own line.
    /// </summary>
    public int StderrLineCount
    {
        get
        {
            lock (_gate)
            {
                Settle();
                return _stderrLines.Count;
            }
        }
    }

    // Waits, holding _gate, until no output has come for 50 ms, the process has ended, or 2 s have passed.
    private void Settle()
    {
        long giveUp = Environment.TickCount64 + 2000;
        while (true)
        {
            long quiet = Environment.TickCount64 - _lastOutputAt;
            if (quiet >= 50 || Environment.TickCount64 >= giveUp || _stderrPumpDone)
            {
                return;
            }

            Monitor.Wait(_gate, (int)(50 - quiet));
        }
    }

    public byte[] RawStderr
    {
        get
        {
            lock (_gate)
            {
                return _rawStderr.ToArray();
            }
        }
    }

    /// <summary>Waits for the start-up line containing <c>ready</c>; fails with the log if the process exits first.</summary>
    public void WaitReady(TimeSpan? timeout = null) =>
        WaitForLog(line => line.Contains("ready", StringComparison.Ordinal), timeout ?? DefaultReadyTimeout, "the start-up line containing 'ready'");

    /// <summary>Waits for a stderr line matching <paramref name="predicate"/>, searching from line <paramref name="fromLine"/>.</summary>
    public string WaitForLog(Func<string, bool> predicate, TimeSpan timeout, string what, int fromLine = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            int next = fromLine; // lines already tested are not tested again: a busy log stays cheap to wait on
            while (true)
            {
                for (; next < _stderrLines.Count; next++)
                {
                    if (predicate(_stderrLines[next]))
                    {
                        return _stderrLines[next];
                    }
                }

                bool ended = _exitCode is not null || (_stderrPumpDone && _stdoutPumpDone);
                var left = deadline - DateTime.UtcNow;
                if (ended || left <= TimeSpan.Zero)
                {
                    string state = ended ? $"the process ended (exit code {_exitCode?.ToString() ?? "?"})" : $"timed out after {timeout.TotalSeconds:0.#} s";
                    Assert.Fail($"Waiting for {what} in the log of pid {Pid}: {state}.\n{DescribeLocked()}");
                }

                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>True if a line matching <paramref name="predicate"/> shows up within <paramref name="timeout"/>.</summary>
    public bool TryWaitForLog(Func<string, bool> predicate, TimeSpan timeout, int fromLine = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            int next = fromLine;
            while (true)
            {
                for (; next < _stderrLines.Count; next++)
                {
                    if (predicate(_stderrLines[next]))
                    {
                        return true;
                    }
                }

                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Sends SIGHUP to this pid (greyd reloads its whitelists); fails if the process is gone.</summary>
    public void Hup()
    {
        if (HasExited || !Native.Signal(Pid, Native.SIGHUP))
        {
            Assert.Fail($"Could not send SIGHUP to pid {Pid}: the process has ended.\n{Describe()}");
        }
    }

    /// <summary>The stderr lines from index <paramref name="fromLine"/> on, once the output has settled.</summary>
    public IReadOnlyList<string> StderrLinesFrom(int fromLine)
    {
        lock (_gate)
        {
            Settle();
            return fromLine >= _stderrLines.Count ? [] : _stderrLines.GetRange(fromLine, _stderrLines.Count - fromLine);
        }
    }

    /// <summary>Sends SIGTERM to this pid and waits for the exit; returns the exit code. Fails if it does not exit.</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        if (!HasExited)
        {
            Native.Signal(Pid, Native.SIGTERM);
        }

        var wait = timeout ?? TimeSpan.FromSeconds(15);
        if (!TryWaitForExit(wait, out int code))
        {
            Kill9();
            Assert.Fail($"pid {Pid} did not exit within {wait.TotalSeconds:0.#} s of SIGTERM; killed it.\n{Describe()}");
        }

        return code;
    }

    /// <summary>SIGKILL to this pid, then waits until it is gone.</summary>
    public void Kill9()
    {
        if (!HasExited)
        {
            Native.Signal(Pid, Native.SIGKILL);
        }

        TryWaitForExit(TimeSpan.FromSeconds(10), out _);
    }

    /// <summary>Waits for the exit and for both output pumps to drain; false on timeout.</summary>
    public bool TryWaitForExit(TimeSpan timeout, out int exitCode)
    {
        exitCode = -1;
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds))
        {
            return false;
        }

        _process.WaitForExit();
        _stderrPump.Join(TimeSpan.FromSeconds(5));
        _stdoutPump.Join(TimeSpan.FromSeconds(5));
        exitCode = _process.ExitCode;
        lock (_gate)
        {
            _exitCode = exitCode;
            Monitor.PulseAll(_gate);
        }

        return true;
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!TryWaitForExit(timeout, out int code))
        {
            Assert.Fail($"pid {Pid} did not exit within {timeout.TotalSeconds:0.#} s.\n{Describe()}");
        }

        return code;
    }

    /// <summary>Fails the test if the process has exited.</summary>
    public void AssertAlive(string when)
    {
        if (HasExited)
        {
            TryWaitForExit(TimeSpan.FromSeconds(2), out _);
            Assert.Fail($"greyd (pid {Pid}) is no longer running {when}.\n{Describe()}");
        }
    }

    /// <summary>Fails the test if the log shows an unhandled exception or a stack trace.</summary>
    public void AssertNoCrashTrace()
    {
        var bad = StderrLines.Where(l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase) || l.StartsWith("   at ", StringComparison.Ordinal)).ToList();
        if (bad.Count > 0)
        {
            Assert.Fail($"greyd (pid {Pid}) logged an exception trace:\n{Describe()}");
        }
    }

    public string Describe()
    {
        lock (_gate)
        {
            return DescribeLocked();
        }
    }

    private string DescribeLocked()
    {
        var text = new StringBuilder();
        text.Append("command: ").AppendLine(CommandLine);
        const int Tail = 60;
        text.Append("stderr (").Append(_stderrLines.Count).AppendLine(" lines, last ones):");
        foreach (string line in _stderrLines.Skip(Math.Max(0, _stderrLines.Count - Tail)))
        {
            text.Append("  | ").AppendLine(Visible(line));
        }

        if (_stdoutLines.Count > 0)
        {
            text.AppendLine("stdout:");
            foreach (string line in _stdoutLines.Skip(Math.Max(0, _stdoutLines.Count - 20)))
            {
                text.Append("  | ").AppendLine(Visible(line));
            }
        }

        return text.ToString();
    }

    /// <summary>Shows control characters as \xNN so a failure message cannot hide them.</summary>
    public static string Visible(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c < 0x20 || c == 0x7f)
            {
                sb.Append("\\x").Append(((int)c).ToString("x2"));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private volatile bool _stderrPumpDone;
    private volatile bool _stdoutPumpDone;

    private Thread StartPump(Stream stream, List<string> lines, MemoryStream? raw, string name)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[8192];
            var pending = new List<byte>();
            try
            {
                while (true)
                {
                    int n = stream.Read(buffer, 0, buffer.Length);
                    if (n <= 0)
                    {
                        break;
                    }

                    lock (_gate)
                    {
                        _lastOutputAt = Environment.TickCount64;
                        raw?.Write(buffer, 0, n);
                        for (int i = 0; i < n; i++)
                        {
                            if (buffer[i] == (byte)'\n')
                            {
                                lines.Add(Encoding.UTF8.GetString(pending.ToArray()));
                                pending.Clear();
                            }
                            else
                            {
                                pending.Add(buffer[i]);
                            }
                        }

                        Monitor.PulseAll(_gate);
                    }
                }
            }
            catch (IOException)
            {
            }
            catch (ObjectDisposedException)
            {
            }

            lock (_gate)
            {
                if (pending.Count > 0)
                {
                    lines.Add(Encoding.UTF8.GetString(pending.ToArray()));
                }

                if (name == "stderr")
                {
                    _stderrPumpDone = true;
                }
                else
                {
                    _stdoutPumpDone = true;
                }

                Monitor.PulseAll(_gate);
            }
        })
        {
            IsBackground = true,
            Name = $"pump {name} {Pid}",
        };
        thread.Start();
        return thread;
    }

    public void Dispose()
    {
        if (!HasExited)
        {
            Native.Signal(Pid, Native.SIGKILL);
        }

        _process.WaitForExit(10000);
        _process.Dispose();
    }
}
