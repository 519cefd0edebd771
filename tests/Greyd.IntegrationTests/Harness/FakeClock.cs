namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A libfaketime clock file (Debian package faketime) for a daemon started with <see cref="Environment"/>: it starts
/// at <c>+0</c> and <see cref="Set"/> moves the daemon's clock (wall and monotonic) without waiting.
/// FAKETIME_DONT_FAKE_MONOTONIC is deliberately not set: with it, timed waits return at once and timers spin.
/// </summary>
public sealed class FakeClock
{
    public FakeClock(TempDir dir)
    {
        ExternalTool.Require(ExternalTool.LibFaketime, "libfaketime");
        FilePath = dir.File("faketime.rc");
        File.WriteAllText(FilePath, "+0\n");
        Environment = new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = ExternalTool.LibFaketime,
            ["FAKETIME_TIMESTAMP_FILE"] = FilePath,
            ["FAKETIME_NO_CACHE"] = "1",
        };
    }

    public string FilePath { get; }

    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Writes an offset such as <c>+2m</c>; replaced atomically, so the daemon never reads half a file.</summary>
    public void Set(string offset)
    {
        string next = FilePath + ".next";
        File.WriteAllText(next, offset + "\n");
        File.Move(next, FilePath, overwrite: true);
    }
}
