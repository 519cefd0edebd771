using System.Collections.Concurrent;
using System.Text;
using Greyd.Policy;

namespace Greyd.Storage.Faster.Tests;

/// <summary>Collects store log lines so tests can assert what an operator would read.</summary>
internal sealed class CollectingLog : IStoreLog
{
    public ConcurrentQueue<(StoreLogLevel Level, string Message)> Lines { get; } = new();

    public void Write(StoreLogLevel level, string message) => Lines.Enqueue((level, message));

    public int Count(StoreLogLevel level) => Lines.Count(l => l.Level == level);

    public string Dump() => string.Join("\n", Lines.Select(l => $"{l.Level}: {l.Message}"));
}

/// <summary>A temporary store directory, deleted with everything in it at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "greyd-faster-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Copies a directory tree as it is right now: what a crash would leave behind (page cache included).</summary>
    public static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, dir)));
        }

        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var target = File.Create(System.IO.Path.Combine(to, System.IO.Path.GetRelativePath(from, file)));
            source.CopyTo(target);
        }
    }
}

/// <summary>A live store directory, and the copy of it that a kill -9 at the moment of <see cref="Crash"/> leaves.</summary>
internal sealed class CrashDirs : IDisposable
{
    private readonly TempDir _dir = new();

    public string Live => _dir.Sub("live");

    public string Crashed => _dir.Sub("crashed");

    public void Crash() => TempDir.Copy(Live, Crashed);

    public void Dispose() => _dir.Dispose();
}

internal static class Stores
{
    public static readonly GreylistOptions Options = new();

    public static long Wall => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static byte[] Key(string text) => Encoding.Latin1.GetBytes(text);

    public static FasterStoreOptions Settings(string dir, long memory = 32L << 20) => new()
    {
        Directory = dir,
        MemorySize = memory,
        IndexSize = 1L << 20,
        CheckpointInterval = TimeSpan.FromHours(1),
        SweepInterval = TimeSpan.FromHours(1),
    };

    /// <summary>The manifest's generation line ("current" or "previous"): log token, journal seq, counts, index token, begin, index time.</summary>
    public static string[] Generation(string dir, string which) =>
        File.ReadAllLines(System.IO.Path.Combine(dir, "manifest")).Single(l => l.StartsWith(which + " ", StringComparison.Ordinal)).Split(' ')[1..];

    public static string[] CheckpointDirs(string dir, string kind) =>
        Directory.GetDirectories(System.IO.Path.Combine(dir, "checkpoints", kind)).Select(d => System.IO.Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();

    public static FasterGreylistStore Open(string dir, CollectingLog? log = null, long memory = 32L << 20) =>
        FasterGreylistStore.Open(Settings(dir, memory), Options, log ?? new CollectingLog());
}
