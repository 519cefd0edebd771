using System.Runtime.ExceptionServices;
using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>
/// Greylisting from a store shared by several MX hosts, failing open to this host's local store. Every request
/// goes to the local store first (so it always holds this host's view), then to the shared store, which gets at
/// most <see cref="Timeout"/> to answer. When the shared store fails or is slow, greyd answers from the local
/// store (per-host greylisting), logs it once, and probes the shared store in the background until it answers
/// again; meanwhile no request waits on it.
/// </summary>
/// <remarks>
/// The admin operations need a local store that has them (<see cref="IStoreAdmin"/>). A peek merges the shared
/// record into the local one when the shared store answers in time; a delete goes to both stores and fails when the
/// shared store cannot take it (the record would come back from there); an import goes to the local store and, when
/// it is up, the shared one. A listing is the local store's: the shared store is not listed.
/// </remarks>
public sealed class SharedGreylistStore : IGreylistStore, IStoreHealth, IStoreAdmin
{
    private readonly IGreylistStore _local;
    private readonly ISharedStore _shared;
    private readonly IStoreLog _log;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _probeInterval;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task _probing = Task.CompletedTask;
    private TimeSpan _firstProbe;
    private DateTimeOffset? _backAt;
    private bool _up;
    private DateTimeOffset? _downSince;
    private long _failures;

    public SharedGreylistStore(IGreylistStore local, ISharedStore shared, TimeSpan timeout, IStoreLog log, TimeProvider? clock = null, TimeSpan? probeInterval = null)
    {
        _local = local;
        _shared = shared;
        Timeout = timeout;
        _log = log;
        _clock = clock ?? TimeProvider.System;
        _probeInterval = probeInterval ?? TimeSpan.FromSeconds(1);
        _firstProbe = _probeInterval;
    }

    /// <summary>An outage this soon after a recovery doubles the wait before the next probe.</summary>
    public static readonly TimeSpan FlapWindow = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest wait before probing a store that keeps failing again right after it came back: short, since a
    /// store that is truly back should be used again soon.
    /// </summary>
    public static readonly TimeSpan MaxFirstProbe = TimeSpan.FromSeconds(16);

    /// <summary>The longest a request waits for the shared store.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>True while requests go to the shared store.</summary>
    public bool IsUp => Volatile.Read(ref _up);

    /// <summary>
    /// Connects to the shared store within <paramref name="connectTimeout"/>; when it cannot, logs why and starts
    /// on the local store. Either way the store is ready to serve.
    /// </summary>
    public async Task StartAsync(TimeSpan connectTimeout)
    {
        try
        {
            var (server, note) = await _shared.ConnectAsync().WaitAsync(connectTimeout).ConfigureAwait(false);
            lock (_gate)
            {
                _up = true;
            }

            _log.Write(StoreLogLevel.Notice, $"shared store {_shared.Name}: connected{(server is null ? string.Empty : $" ({server})")}");
            if (note is not null)
            {
                _log.Write(StoreLogLevel.Notice, $"shared store {_shared.Name}: {note}");
            }
        }
#pragma warning disable CA1031 // Whatever stops the connection, greyd starts on its local store.
        catch (Exception e)
#pragma warning restore CA1031
        {
            MarkDown(Reason(e, $"not connected within {(long)connectTimeout.TotalMilliseconds} ms"));
        }
    }

    public async ValueTask<RequestObservation> ObserveRequestAsync(ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now)
    {
        RequestObservation? local = null;
        ExceptionDispatchInfo? localFault = null;
        try
        {
            local = await _local.ObserveRequestAsync(clientKey, tripletKey, now).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A local store fault must not stop the shared store from answering; it is rethrown if both fail.
        catch (Exception e)
#pragma warning restore CA1031
        {
            localFault = ExceptionDispatchInfo.Capture(e);
        }

        if (Volatile.Read(ref _up))
        {
            try
            {
                return await _shared.ObserveRequestAsync(clientKey, tripletKey, now, local).WaitAsync(Timeout).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever goes wrong with the shared store, the local store answers.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Failed(e);
            }
        }

        if (local is { } answer)
        {
            return answer;
        }

        localFault!.Throw();
        return default;
    }

    public async ValueTask<TripletRecord?> PeekTripletAsync(ReadOnlyMemory<byte> tripletKey, long now)
    {
        var local = await LocalAdmin.PeekTripletAsync(tripletKey, now).ConfigureAwait(false);
        return await SharedOrLocalAsync(() => _shared.PeekTripletAsync(tripletKey, now, local), local).ConfigureAwait(false);
    }

    public async ValueTask<ClientRecord?> PeekClientAsync(ReadOnlyMemory<byte> clientKey, long now)
    {
        var local = await LocalAdmin.PeekClientAsync(clientKey, now).ConfigureAwait(false);
        return await SharedOrLocalAsync(() => _shared.PeekClientAsync(clientKey, now, local), local).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteTripletAsync(ReadOnlyMemory<byte> tripletKey) =>
        await DeleteAsync(await LocalAdmin.DeleteTripletAsync(tripletKey).ConfigureAwait(false), () => _shared.DeleteTripletAsync(tripletKey)).ConfigureAwait(false);

    public async ValueTask<bool> DeleteClientAsync(ReadOnlyMemory<byte> clientKey) =>
        await DeleteAsync(await LocalAdmin.DeleteClientAsync(clientKey).ConfigureAwait(false), () => _shared.DeleteClientAsync(clientKey)).ConfigureAwait(false);

    /// <summary>Imports into the local store, and into the shared one when it is up; the outcome is the local store's.</summary>
    public async ValueTask<ImportOutcome> ImportTripletAsync(ReadOnlyMemory<byte> tripletKey, TripletRecord record, long now)
    {
        var local = await LocalAdmin.ImportTripletAsync(tripletKey, record, now).ConfigureAwait(false);
        await SharedOrLocalAsync(() => _shared.ImportTripletAsync(tripletKey, record, now), local).ConfigureAwait(false);
        return local;
    }

    /// <summary>Imports into the local store, and into the shared one when it is up; the outcome is the local store's.</summary>
    public async ValueTask<ImportOutcome> ImportClientAsync(ReadOnlyMemory<byte> clientKey, ClientRecord record, long now)
    {
        var local = await LocalAdmin.ImportClientAsync(clientKey, record, now).ConfigureAwait(false);
        await SharedOrLocalAsync(() => _shared.ImportClientAsync(clientKey, record, now), local).ConfigureAwait(false);
        return local;
    }

    /// <summary>The local store's records: the shared store is not listed (it may hold other hosts' triplets too).</summary>
    public IAsyncEnumerable<StoreEntry> EnumerateAsync(long now, CancellationToken cancellationToken = default) =>
        LocalAdmin.EnumerateAsync(now, cancellationToken);

    public StoreHealth GetHealth()
    {
        var local = _local is IStoreHealth h ? h.GetHealth() : new StoreHealth("unknown", 0, 0, 0, null, 0, 0, Degraded: false);
        lock (_gate)
        {
            return local with { Shared = new SharedStoreHealth(_shared.Name, _up, Interlocked.Read(ref _failures), _downSince) };
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _probing.ConfigureAwait(false);
        await _shared.DisposeAsync().ConfigureAwait(false);
        await _local.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private IStoreAdmin LocalAdmin =>
        _local as IStoreAdmin ?? throw new NotSupportedException("the local store has no admin operations");

    // The shared store's answer within the timeout while it is up; else, as for requests, the local one.
    private async Task<T> SharedOrLocalAsync<T>(Func<Task<T>> shared, T local)
    {
        if (!Volatile.Read(ref _up))
        {
            return local;
        }

        try
        {
            return await shared().WaitAsync(Timeout).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever goes wrong with the shared store, the local store answers.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Failed(e);
            return local;
        }
    }

    // Tried even while the store is down: a record deleted here only would come back from the shared store.
    private async Task<bool> DeleteAsync(bool local, Func<Task<bool>> shared)
    {
        try
        {
            return await shared().WaitAsync(Timeout).ConfigureAwait(false) | local;
        }
#pragma warning disable CA1031 // Any failure is reported to the admin as the shared store's.
        catch (Exception e)
#pragma warning restore CA1031
        {
            string reason = Reason(e, $"no answer within {(long)Timeout.TotalMilliseconds} ms");
            if (Volatile.Read(ref _up))
            {
                Failed(e);
            }

            throw new SharedStoreException(
                $"{(local ? "deleted here" : "not found here")}, but not deleted from the shared store {_shared.Name} ({reason}); it may come back from there", e);
        }
    }

    private void Failed(Exception e)
    {
        Interlocked.Increment(ref _failures);
        MarkDown(Reason(e, $"no answer within {(long)Timeout.TotalMilliseconds} ms"));
    }

    // A store's own reasons are short already; anything else is named by its type.
    private static string Reason(Exception e, string timedOut) => e switch
    {
        TimeoutException => timedOut,
        SharedStoreException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    // One line per outage, however many requests meet it; the probe brings the store back.
    private void MarkDown(string reason)
    {
        lock (_gate)
        {
            if (_downSince is not null || _stop.IsCancellationRequested)
            {
                return;
            }

            _up = false;
            _downSince = _clock.GetUtcNow();
            // A store that fails again right after coming back (slow at the edge of the timeout, say) is given
            // longer each time, so it costs a pair of lines every 16 s at most rather than one a second.
            _firstProbe = _backAt is { } back && _downSince - back < FlapWindow
                ? TimeSpan.FromTicks(Math.Min(_firstProbe.Ticks * 2, Math.Max(MaxFirstProbe.Ticks, _probeInterval.Ticks)))
                : _probeInterval;
            // Under the lock: the lines come in the order of the changes they report.
            _log.Write(StoreLogLevel.Error, $"shared store {_shared.Name}: {reason}; greylisting from the local store until it is back");
            _probing = Task.Run(ProbeAsync);
        }
    }

    private async Task ProbeAsync()
    {
        TimeSpan wait;
        lock (_gate)
        {
            wait = _firstProbe;
        }

        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, _clock, _stop.Token).ConfigureAwait(false);
                wait = _probeInterval;
                await _shared.ProbeAsync().WaitAsync(Timeout, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The probe must outlive any failure of the store, or it would stay down for good.
            catch (Exception)
#pragma warning restore CA1031
            {
                continue;
            }

            lock (_gate)
            {
                _log.Write(StoreLogLevel.Notice, $"shared store {_shared.Name}: back, greylisting from it again");
                _up = true;
                _downSince = null;
                _backAt = _clock.GetUtcNow();
            }

            return;
        }
    }
}
