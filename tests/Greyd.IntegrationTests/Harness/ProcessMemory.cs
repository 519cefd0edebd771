using System.Globalization;
using System.Runtime.InteropServices;

namespace Greyd.IntegrationTests.Harness;

/// <summary>Resident memory and descriptors of a process from /proc, and the test process's own descriptor limit.</summary>
public static partial class ProcessMemory
{
    /// <summary>VmRSS of <paramref name="pid"/> in MiB, or -1 if the process is gone.</summary>
    public static double RssMiB(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return -1;
    }

    /// <summary>Samples the RSS of a process every 100 ms until disposed; keeps the maximum.</summary>
    public sealed class Sampler : IDisposable
    {
        private readonly int _pid;
        private readonly Timer _timer;
        private double _max;

        public Sampler(int pid)
        {
            _pid = pid;
            _max = RssMiB(pid);
            _timer = new Timer(_ => Sample(), null, 100, 100);
        }

        public double MaxMiB
        {
            get
            {
                Sample();
                lock (_timer)
                {
                    return _max;
                }
            }
        }

        private void Sample()
        {
            double rss = RssMiB(_pid);
            lock (_timer)
            {
                _max = Math.Max(_max, rss);
            }
        }

        public void Dispose() => _timer.Dispose();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, ref RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, ref RLimit limit);

    /// <summary>Raises this test process's soft descriptor limit to at least <paramref name="wanted"/> (up to the hard limit); returns the limit now.</summary>
    public static ulong RaiseDescriptorLimit(ulong wanted)
    {
        var limit = default(RLimit);
        if (GetRLimit(7, ref limit) != 0)
        {
            return 0;
        }

        if (limit.Current < wanted)
        {
            var raised = new RLimit { Current = Math.Min(wanted, limit.Maximum), Maximum = limit.Maximum };
            if (SetRLimit(7, ref raised) == 0)
            {
                return raised.Current;
            }
        }

        return limit.Current;
    }
}
