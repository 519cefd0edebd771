using System.Diagnostics;
using System.Runtime.InteropServices;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Admin.Commands;
using Greyd.Hosting.Cli;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Metrics;
using Greyd.Hosting.SenderPools;
using Greyd.Spf.Dns;
using Greyd.Spf.Evaluation;
using Greyd.Hosting.Observers;
using Greyd.Hosting.Reporting;
using Greyd.Hosting.Server;
using Greyd.Hosting.Systemd;
using Greyd.Hosting.Whitelists;
using Greyd.Storage;
using Greyd.Storage.Faster;
using Greyd.Storage.Redis;

namespace Greyd.Hosting;

/// <summary>
/// The daemon's life: lock the store directory, bind, drop privileges, recover the store, serve until SIGTERM,
/// then close the listeners, finish open requests and checkpoint the store.
/// </summary>
public static class GreydDaemon
{
    private const int MinPoolThreadsWithSharedStore = 32;

    private const string ReportDirectory = "report";

    /// <summary>Runs greyd with a command line; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parsed = GreydCommandLine.Parse(args, socketActivated: SystemdSockets.ArePassed);
        if (parsed.Settings is not { } settings)
        {
            if (parsed.Output is not null)
            {
                Console.Out.Write(parsed.Output);
            }

            if (parsed.Error is not null)
            {
                Console.Error.WriteLine(parsed.Error);
            }

            return parsed.ExitCode;
        }

        SocketEngine.PreferInlineCompletions();
        var log = new GreydLog(Console.OpenStandardError(), settings.LogPriority);
        try
        {
            return await RunAsync(settings, log).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or StoreLockedException or System.Net.Sockets.SocketException)
        {
            log.Write(LogPriority.Error, "fatal: " + e.Message);
            return 1;
        }
        catch (Exception e)
        {
            log.Write(LogPriority.Critical, $"fatal: {e.GetType().Name}: {e.Message}");
            return 1;
        }
        finally
        {
            log.Flush();
        }
    }

    private static async Task<int> RunAsync(GreydSettings settings, GreydLog log)
    {
        var started = Stopwatch.StartNew();
        RaiseDescriptorLimit(settings, log);
        using var systemd = SystemdNotifier.FromEnvironment();
        (uint Uid, uint Gid)? account = null;
        if (settings.User is not null || settings.Group is not null)
        {
            if (Privileges.IsRoot)
            {
                account = Privileges.Resolve(settings.User ?? "root", settings.Group);
            }
            else
            {
                log.Write(LogPriority.Notice, "not started as root: --user and --group are ignored");
            }
        }

        if (settings.Daemonize)
        {
            log.Write(LogPriority.Notice, "--daemonize ignored: greyd runs in the foreground (use systemd)");
        }

        // Read as root, before dropping privileges: the file is for root's eyes only.
        var sharedStore = settings.SharedStore is { } shared ? WithPassword(shared, settings.SharedStorePasswordFile) : null;

        // The lock comes first: a second greyd must fail before it touches the first one's socket.
        using var storeLock = StoreFallback.TryLock(settings.DbDir, log);
        var listeners = Bind(settings);
        using var admin = BindAdmin(settings, account, log);
        try
        {
            using var metricsListener = settings.Metrics is { } endpoint ? MetricsListener.Bind(endpoint) : null;
            if (settings.PidFile is not null)
            {
                await File.WriteAllTextAsync(settings.PidFile, Environment.ProcessId + "\n").ConfigureAwait(false);
            }

            if (account is { } a)
            {
                foreach (var listener in listeners.Where(l => l.UnixPath is not null))
                {
                    Privileges.Chown(listener.UnixPath!, a.Uid, a.Gid, recursive: false);
                }

                if (settings.PidFile is not null)
                {
                    Privileges.Chown(settings.PidFile, a.Uid, a.Gid, recursive: false);
                }

                if (storeLock is not null)
                {
                    Privileges.Chown(settings.DbDir, a.Uid, a.Gid, recursive: true);
                }
                Privileges.Drop(settings.User ?? "root", a.Uid, a.Gid);
            }

            var adminWhitelist = storeLock is null ? AdminWhitelist.None : AdminWhitelist.In(settings.DbDir);
            using var whitelists = new WhitelistHolder(
                new WhitelistLoader(
                    settings.WhitelistClients ?? GreydSettings.DefaultWhitelistClients,
                    settings.WhitelistRecipients ?? GreydSettings.DefaultWhitelistRecipients,
                    clientFilesAreDefaults: settings.WhitelistClients is null,
                    recipientFilesAreDefaults: settings.WhitelistRecipients is null,
                    adminWhitelist.Path),
                log,
                settings.WhitelistPollInterval);
            IGreylistStore local = storeLock is null
                ? new InMemoryGreylistStore(settings.Greylist)
                : await OpenStoreAsync(settings, log).ConfigureAwait(false);
            await using var store = sharedStore is null ? local : await OpenSharedStoreAsync(local, sharedStore, settings, log).ConfigureAwait(false);
            using var shutdown = new CancellationTokenSource();
            using var signals = RegisterSignals(shutdown, whitelists, log);
            // The report's days live beside the store; without a usable store directory they stay in memory.
            var ledger = ReportLedger.Open(storeLock is null ? null : Path.Combine(settings.DbDir, ReportDirectory), settings.Greylist, log, TimeProvider.System);
            var reporting = ledger.RunAsync(shutdown.Token);
            PolicyServer? server = null;
            using var metrics = metricsListener is null ? null : new GreydMetrics(store, () => server?.ActiveConnections ?? 0, TimeProvider.System);
            // A retry after 3/4 of the budget still fits a lost UDP packet; a dead resolver outlasts the budget (1.7 times
            // it), so the check times out first and counts towards the pause.
            using var spfDns = settings.SenderPools is { } pools
                ? new SpfDnsResolver(new SpfDnsOptions { Servers = pools.DnsServers, QueryTimeout = pools.Timeout * 0.75, Attempts = 2 }, TimeProvider.System)
                : null;
            if (spfDns is not null)
            {
                metrics?.WatchSenderPools(spfDns);
            }

            var poolChecker = spfDns is null ? null : new SenderPoolChecker(new SpfEvaluator(spfDns), settings.SenderPools!.Timeout, log);
            var service = new PolicyService(settings.Greylist, store, whitelists, log, TimeProvider.System, DecisionObservers.Combine(ledger, metrics), poolChecker);
            server = new PolicyServer(listeners, service, log, settings.Exim, new ConnectionLimits(log, settings.IdleTimeout, settings.RequestTimeout), settings.MaxConnections);
            using var status = StatusReport.Register(store, service, server, log, started);
            Task adminServing = Task.CompletedTask;
            if (admin is not null)
            {
                var context = new AdminContext(settings, store, whitelists, adminWhitelist, service, server, log, TimeProvider.System, started, poolChecker);
                admin.SetCommands([new ListCommand(context), new ExplainCommand(context), new WhitelistCommand(context), new DeleteCommand(context), new StatsCommand(context), new ReportCommand(ledger), new ImportCommand(context)]);
                adminServing = admin.RunAsync(shutdown.Token);
            }

            string metricsName = metricsListener is null ? "" : $", metrics on {metricsListener.Name}";
            if (settings.SenderPools is { } spf)
            {
                string resolvers = string.Join(", ", spfDns!.Servers);
                log.Write(LogPriority.Notice, $"sender pools on: SPF checks ask {resolvers}, at most {(long)spf.Timeout.TotalMilliseconds} ms each");
            }

            log.Write(LogPriority.Notice, $"greyd {GreydCommandLine.Version} ready on {string.Join(", ", listeners.Select(l => l.Name))}{metricsName} (started in {started.ElapsedMilliseconds} ms)");
            systemd.Notify("READY=1");
            var serving = server.RunAsync(TimeSpan.FromSeconds(5), shutdown.Token);
            var scraping = metricsListener?.RunAsync(metrics!.Render, shutdown.Token) ?? Task.CompletedTask;
            await WaitForShutdownAsync(shutdown.Token).ConfigureAwait(false);
            systemd.Notify("STOPPING=1");
            log.Write(LogPriority.Notice, "greyd stopping");
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            admin?.Dispose();
            metricsListener?.Dispose();
            await Task.WhenAll(serving, adminServing, reporting, scraping).ConfigureAwait(false);
            ledger.Flush();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            if (settings.PidFile is not null)
            {
                TryDelete(settings.PidFile);
            }
        }

        log.Write(LogPriority.Notice, "greyd stopped");
        return 0;
    }

    // Native AOT, unlike the JIT runtime, leaves the soft descriptor limit where it was (often 1024): raise it to the
    // hard limit so that --max-connections, not EMFILE, is what bounds the connections.
    private static void RaiseDescriptorLimit(GreydSettings settings, GreydLog log)
    {
        ulong limit = Native.Libc.RaiseNoFileLimit();
        if (limit != ulong.MaxValue && (ulong)settings.MaxConnections + 64 > limit)
        {
            log.Write(LogPriority.Warning, $"--max-connections={settings.MaxConnections} is near the descriptor limit of {limit}; raise LimitNOFILE or lower --max-connections");
        }
    }

    // Sockets passed by systemd come first; --unix and --inet bind only what systemd did not pass.
    private static List<PolicyListener> Bind(GreydSettings settings)
    {
        var listeners = SystemdSockets.Take().Select(PolicyListener.Inherited).ToList();
        try
        {
            if (settings.UnixPath is not null && !listeners.Any(l => l.IsUnixSocketAt(settings.UnixPath)))
            {
                listeners.Add(PolicyListener.BindUnix(settings.UnixPath, settings.SocketMode, settings.ListenQueueSize));
            }

            if (settings.Inet is not null && !listeners.Any(l => l.IsInherited && l.IsTcpOnPort(PolicyListener.InetPort(settings.Inet))))
            {
                listeners.AddRange(PolicyListener.BindInet(settings.Inet, settings.ListenQueueSize));
            }
        }
        catch
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            throw;
        }

        return listeners;
    }

    // The admin socket is for people, not mail: when it cannot be bound greyd says so and serves mail anyway.
    private static AdminServer? BindAdmin(GreydSettings settings, (uint Uid, uint Gid)? account, GreydLog log)
    {
        if (settings.AdminSocket is not { } path)
        {
            return null;
        }

        uint gid = account?.Gid ?? Native.Libc.GetEGid();
        if (settings.AdminGroup is { } group)
        {
            gid = Privileges.ResolveGroup(group, "--admin-group");
        }

        try
        {
            return AdminServer.Bind(path, account?.Uid ?? Native.Libc.GetEUid(), gid, log);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(LogPriority.Warning, $"admin socket off (greyd list, explain and the other commands will not reach this greyd): {e.Message}");
            return null;
        }
    }

    // An unusable store directory must not stop mail: greylist from memory and say so loudly.
    private static Task<IGreylistStore> OpenStoreAsync(GreydSettings settings, GreydLog log)
    {
        var options = new FasterStoreOptions
        {
            Directory = settings.DbDir,
            JournalSyncInterval = settings.JournalSyncInterval,
            CheckpointInterval = settings.CheckpointInterval,
            SweepInterval = settings.SweepInterval,
            MemorySize = settings.StoreMemoryMB << 20,
            IndexSize = settings.StoreIndexMB << 20,
        };
        try
        {
            return Task.FromResult<IGreylistStore>(FasterGreylistStore.Open(options, settings.Greylist, log));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(LogPriority.Critical, $"cannot use the store in {settings.DbDir}, greylisting from memory only (nothing will survive a restart): {e.Message}");
            return Task.FromResult<IGreylistStore>(new InMemoryGreylistStore(settings.Greylist));
        }
    }

    // The shared store never stops greyd from starting: unreachable, it answers from the local store and says so.
    private static async Task<IGreylistStore> OpenSharedStoreAsync(IGreylistStore local, RedisStoreOptions options, GreydSettings settings, GreydLog log)
    {
        // The Redis client blocks thread-pool threads while it reconnects. With the pool's default minimum (one
        // thread per CPU) the timers that bound each request then wait for the pool to grow, half a second a
        // thread: requests took up to 3.6 s under load on 2 CPUs. Threads kept ready cost only their stacks.
        ThreadPool.GetMinThreads(out int workers, out int completions);
        ThreadPool.SetMinThreads(Math.Max(workers, MinPoolThreadsWithSharedStore), completions);

        var store = new SharedGreylistStore(local, new RedisSharedStore(options, settings.Greylist), settings.SharedStoreTimeout, log);
        await store.StartAsync(options.ConnectTimeout + TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
        return store;
    }

    private static RedisStoreOptions WithPassword(RedisStoreOptions options, string? passwordFile)
    {
        if (passwordFile is null)
        {
            return options;
        }

        string password;
        try
        {
            password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot read --store-password-file={passwordFile}: {e.Message}", e);
        }

        return options with { Password = password };
    }

    private static Registrations RegisterSignals(CancellationTokenSource shutdown, WhitelistHolder whitelists, GreydLog log)
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                shutdown.Cancel();
            }));
        }

        registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            log.Write(LogPriority.Warning, "HUP received: reloading whitelists...");
            // Off the signal thread: a slow file system must not hold up signal handling.
            ThreadPool.QueueUserWorkItem(_ => whitelists.Reload());
        }));
        return new Registrations(registrations);
    }

    private static async Task WaitForShutdownAsync(CancellationToken shutdown)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class Registrations(List<PosixSignalRegistration> items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
            {
                item.Dispose();
            }
        }
    }
}
