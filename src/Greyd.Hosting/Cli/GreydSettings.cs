using Greyd.Hosting.Logging;
using Greyd.Policy;

namespace Greyd.Hosting.Cli;

/// <summary>Everything the command line sets, validated: the daemon's settings and the greylisting options.</summary>
public sealed class GreydSettings
{
    public const string DefaultDbDir = "/var/lib/greyd";

    /// <summary>greyd's shipped list, then postgrey's files at their EL paths, so an existing installation's lists just work.</summary>
    public static readonly IReadOnlyList<string> DefaultWhitelistClients =
        ["/etc/greyd/whitelist_clients", "/etc/postfix/postgrey_whitelist_clients", "/etc/postfix/postgrey_whitelist_clients.local"];

    public static readonly IReadOnlyList<string> DefaultWhitelistRecipients =
        ["/etc/greyd/whitelist_recipients", "/etc/postfix/postgrey_whitelist_recipients", "/etc/postfix/postgrey_whitelist_recipients.local"];

    public string? UnixPath { get; init; }

    /// <summary><c>--inet</c> as given: <c>[HOST:]PORT</c>, a bare port meaning localhost.</summary>
    public string? Inet { get; init; }

    public int SocketMode { get; init; } = Convert.ToInt32("666", 8);

    public string DbDir { get; init; } = DefaultDbDir;

    public string? PidFile { get; init; }

    public string? User { get; init; }

    public string? Group { get; init; }

    public bool Daemonize { get; init; }

    public LogPriority LogPriority { get; init; } = LogPriority.Notice;

    public int ListenQueueSize { get; init; } = 512;

    /// <summary>The <c>--whitelist-clients</c> files; giving the option at all replaces the defaults, as in postgrey.</summary>
    public IReadOnlyList<string>? WhitelistClients { get; init; }

    public IReadOnlyList<string>? WhitelistRecipients { get; init; }

    /// <summary>How often the whitelist files are checked for changes.</summary>
    public TimeSpan WhitelistPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public bool Exim { get; init; }

    public TimeSpan JournalSyncInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Longer than Postfix's 300 s <c>smtpd_policy_service_max_idle</c>, so Postfix always closes first.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(600);

    public int MaxConnections { get; init; } = 4096;

    /// <summary>From a request's first byte to its empty line, and for a client to take its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public const long DefaultStoreMemoryMB = 32;

    public const long DefaultStoreIndexMB = 16;

    /// <summary>MiB of the store's log kept in memory (<c>--store-memory</c>); older records are read from disk.</summary>
    public long StoreMemoryMB { get; init; } = DefaultStoreMemoryMB;

    /// <summary>MiB of the store's hash index (<c>--store-index</c>); fixed when the store is created.</summary>
    public long StoreIndexMB { get; init; } = DefaultStoreIndexMB;

    /// <summary>The store shared with other MX hosts (<c>--store</c>), or null to greylist from the local store alone.</summary>
    public Greyd.Storage.Redis.RedisStoreOptions? SharedStore { get; init; }

    /// <summary>The longest a request waits for the shared store before answering from the local one.</summary>
    public TimeSpan SharedStoreTimeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A file holding the shared store's password, read before greyd drops privileges.</summary>
    public string? SharedStorePasswordFile { get; init; }

    /// <summary>The admin socket's path, or null when it is off (--admin-socket=none).</summary>
    public string? AdminSocket { get; init; } = Admin.AdminServer.DefaultPath;

    /// <summary>The group whose members may use the admin socket; null means greyd's own group.</summary>
    public string? AdminGroup { get; init; }

    /// <summary>Where <c>--metrics</c> serves Prometheus metrics, or null when they are off.</summary>
    public System.Net.IPEndPoint? Metrics { get; init; }

    /// <summary>The <c>--spf-pools</c> settings, or null when triplets are always keyed by client network.</summary>
    public SenderPools.SenderPoolOptions? SenderPools { get; init; }

    public GreylistOptions Greylist { get; init; } = new();
}
