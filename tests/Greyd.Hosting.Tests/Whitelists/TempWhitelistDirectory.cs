using System.Text;
using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Tests.Whitelists;

/// <summary>A fresh directory for whitelist files, removed again by Dispose, and a log captured in memory.</summary>
public sealed class TempWhitelistDirectory : IDisposable
{
    private readonly LockedMemoryStream _logOutput = new();

    public TempWhitelistDirectory()
    {
        Path = Directory.CreateTempSubdirectory("greyd-wl-").FullName;
        Log = new GreydLog(_logOutput, LogPriority.Info);
    }

    public string Path { get; }

    public GreydLog Log { get; }

    public string LogText
    {
        get => Encoding.UTF8.GetString(_logOutput.ToArray());
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, string content)
    {
        string file = File(name);
        System.IO.File.WriteAllText(file, content);
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    // The poll timer writes to the log from another thread while a test reads it.
    private sealed class LockedMemoryStream : MemoryStream
    {
        private readonly Lock _gate = new();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_gate)
            {
                base.Write(buffer, offset, count);
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_gate)
            {
                base.Write(buffer);
            }
        }

        public override byte[] ToArray()
        {
            lock (_gate)
            {
                return base.ToArray();
            }
        }
    }
}
