using Greyd.Hosting.Logging;
using Greyd.Policy.Whitelists;

namespace Greyd.Hosting.Whitelists;

/// <summary>
/// Holds the whitelists in force and reloads them on SIGHUP or when a file changes on disk. A reload that finds
/// an error keeps the previous set; the daemon never dies on a reload.
/// </summary>
public sealed class WhitelistHolder : IDisposable
{
    private readonly WhitelistLoader? _loader;
    private readonly GreydLog? _log;
    private readonly Lock _reloading = new();
    private readonly Lock _checking = new();
    private readonly Timer? _watch;
    private Dictionary<string, (DateTime, long)> _seen = [];
    private Dictionary<string, (DateTime, long)>? _pending;
    private WhitelistSet _current;

    /// <summary>The files behind the set (none for a fixed set), for <c>greyd explain</c> to name the matching line.</summary>
    public WhitelistLoader? Loader => _loader;

    /// <summary>A fixed set, for tests and for running without files.</summary>
    public WhitelistHolder(WhitelistSet set) => _current = set;

    /// <summary>Loads the files now (start-up) and then watches them, polling every <paramref name="pollInterval"/>.</summary>
    public WhitelistHolder(WhitelistLoader loader, GreydLog log, TimeSpan pollInterval)
    {
        _loader = loader;
        _log = log;
        _seen = Stat();
        var result = loader.Load();
        Report(result);
        foreach (string error in result.Errors)
        {
            // At start there is nothing older to keep: the broken lines are skipped and the rest is used.
            log.Write(LogPriority.Error, error);
        }

        _current = result.Set;
        log.Write(LogPriority.Notice, result.Summary);
        if (pollInterval > TimeSpan.Zero)
        {
            _watch = new Timer(_ => CheckForChanges(), null, pollInterval, pollInterval);
        }
    }

    public WhitelistSet Current => Volatile.Read(ref _current);

    /// <summary>Reloads every file; returns false (keeping the previous set) when a file could not be loaded.</summary>
    public bool Reload()
    {
        if (_loader is null || _log is null)
        {
            return true;
        }

        lock (_reloading)
        {
            _seen = Stat();
            var result = _loader.Load();
            Report(result);
            if (result.Errors.Count > 0)
            {
                foreach (string error in result.Errors)
                {
                    _log.Write(LogPriority.Error, error);
                }

                _log.Write(LogPriority.Error, "whitelists not reloaded, the previous ones stay in force");
                return false;
            }

            Volatile.Write(ref _current, result.Set);
            _log.Write(LogPriority.Notice, result.Summary);
            return true;
        }
    }

    public void Dispose() => _watch?.Dispose();

    private void Report(WhitelistLoadResult result)
    {
        foreach (string warning in result.Warnings)
        {
            _log!.Write(LogPriority.Warning, warning);
        }
    }

    // Reload once a change has held still for one poll, so an editor's half-written file is not read.
    private void CheckForChanges()
    {
        // Timer callbacks may overlap when a reload is slow; one check at a time is enough.
        if (!_checking.TryEnter())
        {
            return;
        }

        try
        {
            var now = Stat();
            if (SameAs(now, _seen))
            {
                _pending = null;
                return;
            }

            if (_pending is not null && SameAs(now, _pending))
            {
                _pending = null;
                _log!.Write(LogPriority.Notice, "whitelist file changed: reloading whitelists...");
                Reload();
                return;
            }

            _pending = now;
        }
        catch (Exception e)
        {
            _log!.Write(LogPriority.Error, $"watching the whitelist files failed: {e.Message}");
        }
        finally
        {
            _checking.Exit();
        }
    }

    private Dictionary<string, (DateTime, long)> Stat()
    {
        var stats = new Dictionary<string, (DateTime, long)>(StringComparer.Ordinal);
        foreach (string file in _loader!.AllFiles)
        {
            var info = new FileInfo(file);
            stats[file] = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
        }

        return stats;
    }

    private static bool SameAs(Dictionary<string, (DateTime, long)> a, Dictionary<string, (DateTime, long)> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var other) && other == pair.Value);
}
