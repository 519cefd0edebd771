using System.Diagnostics;

namespace Greyd.PoolBench;

/// <summary>A greyd process in a temp directory, stopped by its own pid when disposed.</summary>
internal sealed class Daemon : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private Daemon(Process process, string dir)
    {
        _process = process;
        _dir = dir;
    }

    public string Socket => Path.Combine(_dir, "greyd.sock");

    public static Daemon Start(string greyd, IEnumerable<string> extra)
    {
        string dir = Directory.CreateTempSubdirectory("greyd-poolbench-").FullName;
        var start = new ProcessStartInfo(greyd) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in (string[])[$"--unix={Path.Combine(dir, "greyd.sock")}", $"--dbdir={Path.Combine(dir, "db")}", "--admin-socket=none", "--allow-policy-test-time", "--hostname=bench.host", "-q", .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {greyd}");
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new Daemon(process, dir);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
