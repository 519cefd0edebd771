using System.Collections.Concurrent;
using System.Globalization;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Observers;
using Greyd.Policy;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// The data behind <c>greyd report</c>: per UTC day of a triplet's first sighting and per sender domain, how many
/// triplets were greylisted, retried for the first time and passed (with the delay). The store cannot answer
/// this: its keys are digests and a triplet never retried is dropped after the retry window.
/// </summary>
/// <remarks>
/// Requests only count in memory. Days are written to DIR/report/YYYY-MM-DD (see <see cref="LedgerFile"/>) every
/// <see cref="FlushInterval"/> when changed and at shutdown: a crash loses at most the last interval's counts,
/// which a report of days and weeks can afford. Days that can no longer change leave memory once written.
/// </remarks>
public sealed class ReportLedger : IDecisionObserver
{
    public const int DefaultDomainCap = 100_000;

    public const int DefaultRetentionDays = 400;

    /// <summary>Without a directory, days stay in memory this long (a week's report and today).</summary>
    public const int MemoryOnlyDays = 8;

    public static readonly TimeSpan FlushInterval = TimeSpan.FromMinutes(1);

    private const int SecondsPerDay = 86400;

    private readonly ConcurrentDictionary<int, LedgerDay> _days = new();
    private readonly Lock _files = new();
    private readonly GreylistOptions _options;
    private readonly GreydLog _log;
    private readonly TimeProvider _clock;
    private readonly Func<int, LedgerDay> _newDay;
    private int _cleanedDay = int.MinValue;

    private ReportLedger(string? directory, GreylistOptions options, GreydLog log, TimeProvider clock, int domainCap, int retentionDays)
    {
        Directory = directory;
        _options = options;
        _log = log;
        _clock = clock;
        DomainCap = domainCap;
        RetentionDays = retentionDays;
        _newDay = day => new LedgerDay(day, DomainCap, loaded: Directory is null);
    }

    /// <summary>Where the day files are, or null when the ledger lives in memory only.</summary>
    public string? Directory { get; }

    /// <summary>Distinct sender domains counted per day before the rest go to "(other)".</summary>
    public int DomainCap { get; }

    /// <summary>Days kept on disk.</summary>
    public int RetentionDays { get; }

    /// <summary>Seconds after its first sighting that a triplet may still retry (from the greylisting options).</summary>
    public long RetryWindow => _options.RetryWindow;

    /// <summary>
    /// Opens the ledger in <paramref name="directory"/> (made if missing) and loads the days that can still change.
    /// Never throws for the directory: an unusable one is logged and the ledger keeps to memory.
    /// </summary>
    public static ReportLedger Open(string? directory, GreylistOptions options, GreydLog log, TimeProvider clock, int domainCap = DefaultDomainCap, int retentionDays = DefaultRetentionDays)
    {
        if (directory is not null)
        {
            try
            {
                System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                foreach (string temp in System.IO.Directory.EnumerateFiles(directory, "*.tmp"))
                {
                    File.Delete(temp);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Write(LogPriority.Warning, $"report: cannot use {directory}, keeping the report in memory only: {e.Message}");
                directory = null;
            }
        }

        var ledger = new ReportLedger(directory, options, log, clock, domainCap, retentionDays);
        if (directory is not null)
        {
            int today = ledger.Today;
            for (int day = ledger.FirstOpenDay(); day <= today; day++)
            {
                if (File.Exists(ledger.PathOf(day)))
                {
                    ledger._days.GetOrAdd(day, ledger._newDay);
                }
            }

            ledger.Flush();
        }

        return ledger;
    }

    private int Today => DayOf(_clock.GetUtcNow().ToUnixTimeSeconds());

    /// <inheritdoc/>
    public void OnDecision(in DecisionEvent decision)
    {
        bool greylisted = decision.Outcome == PolicyOutcome.GreylistNew;
        bool passed = decision.Outcome == PolicyOutcome.FirstPass;
        if ((!greylisted && !passed && !decision.FirstRetry) || decision.FirstSeen <= 0)
        {
            return;
        }

        // Counted on the day of the first sighting, so that "greylisted on D, of which N passed" holds.
        int dayNumber = DayOf(decision.FirstSeen);
        if (!_days.TryGetValue(dayNumber, out var day))
        {
            day = _days.GetOrAdd(dayNumber, _newDay);
        }

        Span<byte> key = stackalloc byte[SenderDomain.MaxKeyLength];
        int length = _options.Privacy
            ? System.Text.Encoding.ASCII.GetBytes(SenderDomain.Private, key)
            : SenderDomain.Write(decision.Sender, key);
        var counts = day.Counts(key[..length]);
        if (greylisted)
        {
            counts.CountGreylisted();
        }

        if (decision.FirstRetry)
        {
            counts.CountRetried();
        }

        if (passed)
        {
            counts.CountPassed(decision.Waited);
        }

        day.MarkDirty();
    }

    /// <inheritdoc/>
    public void OnRequestDone(long elapsedTicks, bool fault)
    {
    }

    /// <summary>Flushes every <see cref="FlushInterval"/> until <paramref name="cancellationToken"/> fires; call <see cref="Flush"/> after.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                Flush();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Writes the changed days, lets go of the days that can no longer change and deletes days past the retention.
    /// Never throws: a failed write is logged and tried again at the next flush.
    /// </summary>
    public void Flush()
    {
        lock (_files)
        {
            int firstOpen = FirstOpenDay();
            int today = Today;
            foreach (var (number, day) in _days)
            {
                if (Directory is null)
                {
                    if (number < today - MemoryOnlyDays)
                    {
                        _days.TryRemove(number, out _);
                    }

                    continue;
                }

                if (!Load(day))
                {
                    continue;
                }

                if (day.TakeDirty() && !Save(day))
                {
                    continue;
                }

                // A request holding the day as it leaves may still count into it: written once more if so.
                if (number < firstOpen && _days.TryRemove(number, out _) && day.TakeDirty())
                {
                    Save(day);
                }
            }

            Clean();
        }
    }

    /// <summary>Runs a report over the ledger's days, now.</summary>
    public ReportResult Query(ReportQuery query)
    {
        long now = _clock.GetUtcNow().ToUnixTimeSeconds();
        lock (_files)
        {
            return query.Run(this, now);
        }
    }

    /// <summary>One day's counts, from memory or its file; null when there is neither. Called under the file lock.</summary>
    internal LedgerDay? ReadDay(int number)
    {
        if (_days.TryGetValue(number, out var day))
        {
            Load(day);
            return day;
        }

        return Directory is not null && File.Exists(PathOf(number)) ? TryRead(number) : null;
    }

    internal static int DayOf(long unixSeconds) => (int)Math.Floor(unixSeconds / (double)SecondsPerDay);

    /// <summary>True when every triplet first seen on <paramref name="day"/> is past its retry window at <paramref name="now"/>.</summary>
    internal bool IsClosed(int day, long now) => now >= ((day + 1L) * SecondsPerDay) + RetryWindow;

    // The oldest day a request can still count into: its triplets may retry until the window after its end.
    private int FirstOpenDay() => DayOf(_clock.GetUtcNow().ToUnixTimeSeconds() - RetryWindow) - 1;

    private string PathOf(int day) => Path.Combine(Directory!, LedgerFile.NameOf(day));

    // A day made by a request, while its file existed, gets the file's counts added before it is written or read.
    private bool Load(LedgerDay day)
    {
        if (day.Loaded)
        {
            return true;
        }

        try
        {
            if (File.Exists(PathOf(day.Day)) && TryRead(day.Day) is { } stored)
            {
                day.Add(stored);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Write(LogPriority.Warning, $"report: cannot read {PathOf(day.Day)}: {e.Message}");
            return false;
        }

        day.Loaded = true;
        return true;
    }

    private LedgerDay? TryRead(int number)
    {
        string path = PathOf(number);
        try
        {
            return LedgerFile.Read(path, number, DomainCap);
        }
        catch (InvalidDataException e)
        {
            MoveAside(path, e.Message);
            return null;
        }
    }

    private void MoveAside(string path, string damage)
    {
        string aside = path + ".damaged-" + _clock.GetUtcNow().ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        try
        {
            File.Move(path, aside, overwrite: true);
            _log.Write(LogPriority.Warning, $"report: {path} is damaged ({damage}), moved to {aside}; its counts are lost");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Write(LogPriority.Warning, $"report: {path} is damaged ({damage}) and cannot be moved aside: {e.Message}");
        }
    }

    private bool Save(LedgerDay day)
    {
        try
        {
            LedgerFile.Write(PathOf(day.Day), day);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            day.MarkDirty();
            _log.Write(LogPriority.Warning, $"report: cannot write {PathOf(day.Day)}: {e.Message}");
            return false;
        }
    }

    // Once a day: files (and moved-aside ones) older than the retention go.
    private void Clean()
    {
        int today = Today;
        if (Directory is null || today == _cleanedDay)
        {
            return;
        }

        _cleanedDay = today;
        try
        {
            foreach (string path in System.IO.Directory.EnumerateFiles(Directory))
            {
                if (LedgerFile.TryParseName(Path.GetFileName(path), out int day) && day < today - RetentionDays)
                {
                    File.Delete(path);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Write(LogPriority.Warning, $"report: cannot delete old days in {Directory}: {e.Message}");
        }
    }
}
