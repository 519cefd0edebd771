using System.Globalization;
using Greyd.Hosting.Logging;
using Greyd.Policy;

namespace Greyd.Hosting.Cli;

/// <summary>
/// postgrey's command line: the same option names, aliases, defaults and "0 means the default" rules, parsed
/// without reflection. Bad input gives one clear line instead of postgrey's crashes on out-of-range values.
/// </summary>
public static class GreydCommandLine
{
    public const string Version = "0.1.0";

    /// <summary>The binary is linked against glibc 2.34, so it runs on EL9 and later, not EL8.</summary>
    public const string VersionText = $"greyd {Version}\nNative AOT build for linux-x64; needs glibc 2.34 or later (EL9, Debian 12)\n";

    private enum Kind
    {
        Flag,
        Value,
        OptionalValue,
    }

    private static readonly Dictionary<string, (string Name, Kind Kind)> s_options = Build(
        ("help", Kind.Flag, ["h", "man"]),
        ("version", Kind.Flag, []),
        ("noaction", Kind.Flag, ["n", "no-action"]),
        ("verbose", Kind.Flag, ["v"]),
        ("quiet", Kind.Flag, ["q"]),
        ("unix", Kind.Value, ["u"]),
        ("inet", Kind.Value, ["i"]),
        ("socketmode", Kind.Value, []),
        ("daemonize", Kind.Flag, ["d"]),
        ("pidfile", Kind.Value, []),
        ("user", Kind.Value, []),
        ("group", Kind.Value, []),
        ("dbdir", Kind.Value, []),
        ("delay", Kind.Value, []),
        ("max-age", Kind.Value, []),
        ("retry-window", Kind.Value, []),
        ("greylist-action", Kind.Value, []),
        ("greylist-text", Kind.Value, []),
        ("x-greylist-header", Kind.Value, []),
        ("lookup-by-subnet", Kind.Flag, []),
        ("lookup-by-host", Kind.Flag, []),
        ("ipv4cidr", Kind.Value, []),
        ("ipv6cidr", Kind.Value, []),
        ("privacy", Kind.Flag, []),
        ("hostname", Kind.Value, []),
        ("exim", Kind.Flag, []),
        ("whitelist-clients", Kind.Value, []),
        ("whitelist-recipients", Kind.Value, []),
        ("auto-whitelist-clients", Kind.OptionalValue, []),
        ("syslog-facility", Kind.Value, ["syslogfacility", "facility"]),
        ("listen-queue-size", Kind.Value, []),
        ("allow-policy-test-time", Kind.Flag, []),
        ("journal-sync-interval", Kind.Value, []),
        ("checkpoint-interval", Kind.Value, []),
        ("sweep-interval", Kind.Value, []),
        ("idle-timeout", Kind.Value, []),
        ("max-connections", Kind.Value, []),
        ("request-timeout", Kind.Value, []),
        ("store-memory", Kind.Value, []),
        ("store-index", Kind.Value, []),
        ("store", Kind.Value, []),
        ("store-timeout", Kind.Value, []),
        ("store-connect-timeout", Kind.Value, []),
        ("store-prefix", Kind.Value, []),
        ("store-password-file", Kind.Value, []),
        ("store-ca", Kind.Value, []),
        ("admin-socket", Kind.Value, []),
        ("admin-group", Kind.Value, []),
        ("metrics", Kind.Value, []),
        ("spf-pools", Kind.Flag, []),
        ("spf-timeout", Kind.Value, []),
        ("spf-dns", Kind.Value, []));

    public static string HelpText => $$"""
        Usage: greyd [options]

        A greylisting policy server for Postfix.
        Commands for a running greyd: greyd {{string.Join("|", Subcommands.GreydSubcommands.Names)}}
        (greyd COMMAND --help for each).

        Listening (at least one, unless systemd passes the sockets):
          -u, --unix=PATH             listen on a unix socket
          -i, --inet=[HOST:]PORT      listen on TCP (a bare PORT means localhost)
              --socketmode=MODE       unix socket mode, octal (default 0666)
              --listen-queue-size=N   listen backlog (default 512, at most 999)
              --exim                  close the connection after each answer
              --max-connections=N     connections served at once (default 4096)
              --idle-timeout=SECONDS  close connections idle this long (default 600)
              --request-timeout=SECONDS
                                      close a connection whose request is not complete this long
                                      after its first byte, or whose answer is not read (default 30)

        Greylisting:
              --delay=N               greylist for N seconds (default 300)
              --max-age=N             forget entries unseen for N days (default 35)
              --retry-window=N        a retry must come within N days, or Nh hours (default 2)
              --greylist-action=A     action for greylisted mail (default DEFER_IF_PERMIT)
              --greylist-text=TXT     reply text; %s = seconds left, %r = recipient domain
                                      (default "{{GreylistOptions.DefaultGreylistText}}")
              --x-greylist-header=TXT header added when mail passes; %t = seconds delayed,
                                      %v = greyd version, %d = date, %h = host name
                                      (default "{{GreylistOptions.DefaultXGreylistHeader}}")
              --hostname=NAME         host name for %h (default: this host's name)
              --lookup-by-subnet      key triplets by client network (default)
              --lookup-by-host        key triplets by client address
              --ipv4cidr=N            IPv4 prefix length of the client network (default 24)
              --ipv6cidr=N            IPv6 prefix length of the client network (default 64)
              --auto-whitelist-clients[=N]
                                      pass clients after N passed triplets (default 5, 0 = off)
              --whitelist-clients=FILE, --whitelist-recipients=FILE
                                      whitelist files (repeatable; replace the default files:
                                      {{string.Join(", ", GreydSettings.DefaultWhitelistClients)}};
                                      {{string.Join(", ", GreydSettings.DefaultWhitelistRecipients)}})
              --privacy               store SHA-1 digests instead of addresses

        Sender pools (off by default):
              --spf-pools             key the triplet on the sender's domain when its SPF record
                                      authorises the client, so a retry from another address of
                                      the same sender passes; the first attempt is still greylisted
              --spf-timeout=MS        longest an SPF check may take; past it the client network
                                      is the key (default {{Greyd.Hosting.SenderPools.SenderPoolOptions.DefaultTimeoutMs}})
              --spf-dns=ADDR[:PORT][,...]
                                      DNS resolvers to ask (default: those in /etc/resolv.conf)

        Store:
              --dbdir=DIR             store directory (default {{GreydSettings.DefaultDbDir}})
              --journal-sync-interval=SECONDS
                                      sync the journal to disk this often (default 1, 0 = every write)
              --checkpoint-interval=SECONDS
                                      checkpoint the store this often (default 60)
              --sweep-interval=SECONDS
                                      remove expired entries this often (default 3600)
              --store-memory=MB       MiB of the store kept in memory, a power of two; the rest
                                      is read from disk (default {{GreydSettings.DefaultStoreMemoryMB}})
              --store-index=MB        MiB of the store's hash index, a power of two; about 1 MiB
                                      per 100,000 entries; used when the store is created (default {{GreydSettings.DefaultStoreIndexMB}})

        Shared store (several MX hosts greylisting as one; the local store above stays the fallback):
              --store=URL             redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], or rediss:// for TLS;
                                      Redis, Valkey or Garnet (--lua --lua-transaction-mode)
              --store-timeout=MS      answer from the local store when the shared one takes longer
                                      (default 50)
              --store-connect-timeout=MS
                                      time to connect at start (default 1000)
              --store-prefix=TEXT     put before every key (default {{Greyd.Storage.Redis.RedisStoreOptions.DefaultPrefix}})
              --store-password-file=FILE
                                      read the password from FILE (keeps it out of the command line)
              --store-ca=FILE         trust this PEM CA certificate for rediss://

        Admin socket (for greyd list, explain, whitelist, delete, stats, report, import-postgrey):
              --admin-socket=PATH     where to listen (default {{Admin.AdminServer.DefaultPath}}; none = off)
              --admin-group=GROUP     members of GROUP may use it (default: greyd's group); root always may

        Metrics (off by default):
              --metrics=[HOST:]PORT   serve Prometheus metrics at http://HOST:PORT/metrics
                                      (a bare PORT means 127.0.0.1)

        Process:
              --user=USER, --group=GROUP
                                      drop to this user and group after binding (when started as root)
              --pidfile=PATH          write the process id to PATH
          -d, --daemonize             accepted; greyd stays in the foreground (run it under systemd)
              --syslog-facility=F     accepted; logs go to stderr, the unit sets the facility
          -v, --verbose               log more (connections)
          -q, --quiet                 log warnings and errors only
              --allow-policy-test-time
                                      honour the policy_test_time attribute (testing only)
          -h, --help                  show this help
              --version               show the version

        """;

    /// <summary>Parses a command line; with <paramref name="socketActivated"/>, systemd's sockets may stand in for --unix/--inet.</summary>
    public static CommandLineResult Parse(IReadOnlyList<string> args, bool socketActivated = false)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var clientFiles = new List<string>();
        var recipientFiles = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg.Length < 2 || arg[0] != '-' || arg == "--")
            {
                return CommandLineResult.Fail($"unexpected argument '{arg}' (see greyd --help)");
            }

            string body = arg.StartsWith("--", StringComparison.Ordinal) ? arg[2..] : arg[1..];
            int eq = body.IndexOf('=', StringComparison.Ordinal);
            string name = eq >= 0 ? body[..eq] : body;
            string? value = eq >= 0 ? body[(eq + 1)..] : null;
            if (!s_options.TryGetValue(name, out var option))
            {
                return CommandLineResult.Fail($"unknown option '{arg}' (see greyd --help)");
            }

            switch (option.Kind)
            {
                case Kind.Flag when value is not null:
                    return CommandLineResult.Fail($"option --{option.Name} takes no value");
                case Kind.Value when value is null:
                    if (i + 1 >= args.Count)
                    {
                        return CommandLineResult.Fail($"option --{option.Name} needs a value");
                    }

                    value = args[++i];
                    break;
                case Kind.OptionalValue when value is null && i + 1 < args.Count && IsDigits(args[i + 1]):
                    value = args[++i];
                    break;
            }

            if (option.Name == "whitelist-clients")
            {
                clientFiles.Add(value!);
            }
            else if (option.Name == "whitelist-recipients")
            {
                recipientFiles.Add(value!);
            }
            else
            {
                values[option.Name] = value;
            }
        }

        if (values.ContainsKey("help"))
        {
            return CommandLineResult.Print(HelpText);
        }

        if (values.ContainsKey("version"))
        {
            return CommandLineResult.Print(VersionText);
        }

        if (values.ContainsKey("noaction"))
        {
            return CommandLineResult.Fail("--no-action is not supported");
        }

        try
        {
            return CommandLineResult.Run(Validate(values, clientFiles, recipientFiles, socketActivated));
        }
        catch (FormatException e)
        {
            return CommandLineResult.Fail(e.Message);
        }
    }

    private static GreydSettings Validate(Dictionary<string, string?> v, List<string> clientFiles, List<string> recipientFiles, bool socketActivated)
    {
        string? unix = NonEmpty(v, "unix");
        string? inet = NonEmpty(v, "inet");
        if (unix is null && inet is null && !socketActivated)
        {
            throw new FormatException("--unix or --inet must be specified");
        }

        var greylist = new GreylistOptions
        {
            Delay = (int)Integer(v, "delay", 300, 0, int.MaxValue),
            MaxAgeDays = (int)Integer(v, "max-age", 35, 0, 36500),
            RetryWindow = RetryWindow(v.GetValueOrDefault("retry-window")),
            GreylistAction = Text(v, "greylist-action", "DEFER_IF_PERMIT"),
            GreylistText = Text(v, "greylist-text", GreylistOptions.DefaultGreylistText),
            XGreylistHeader = Text(v, "x-greylist-header", GreylistOptions.DefaultXGreylistHeader),
            LookupByHost = v.ContainsKey("lookup-by-host"),
            IPv4Cidr = (int)Integer(v, "ipv4cidr", 24, 0, 32),
            IPv6Cidr = (int)Integer(v, "ipv6cidr", 64, 0, 128),
            Privacy = v.ContainsKey("privacy"),
            Hostname = v.TryGetValue("hostname", out var host) && host is not null ? CheckText("hostname", host) : System.Net.Dns.GetHostName(),
            AutoWhitelistClients = AutoWhitelistClients(v),
            AllowPolicyTestTime = v.ContainsKey("allow-policy-test-time"),
        };

        bool quiet = v.ContainsKey("quiet");
        return new GreydSettings
        {
            UnixPath = unix,
            Inet = inet,
            SocketMode = SocketMode(v.GetValueOrDefault("socketmode")),
            DbDir = NonEmpty(v, "dbdir") ?? GreydSettings.DefaultDbDir,
            PidFile = NonEmpty(v, "pidfile"),
            User = NonEmpty(v, "user"),
            Group = NonEmpty(v, "group"),
            Daemonize = v.ContainsKey("daemonize"),
            LogPriority = quiet ? LogPriority.Warning : v.ContainsKey("verbose") ? LogPriority.Info : LogPriority.Notice,
            ListenQueueSize = (int)Math.Min(999, Integer(v, "listen-queue-size", 512, 0, int.MaxValue)),
            WhitelistClients = clientFiles.Count > 0 ? clientFiles : null,
            WhitelistRecipients = recipientFiles.Count > 0 ? recipientFiles : null,
            Exim = v.ContainsKey("exim"),
            JournalSyncInterval = Seconds(v, "journal-sync-interval", 1, 0, 60),
            CheckpointInterval = Seconds(v, "checkpoint-interval", 60, 1, 86400),
            SweepInterval = Seconds(v, "sweep-interval", 3600, 1, 7 * 86400),
            IdleTimeout = Seconds(v, "idle-timeout", 600, 1, 86400),
            MaxConnections = (int)Integer(v, "max-connections", 4096, 1, 1_000_000),
            RequestTimeout = Seconds(v, "request-timeout", 30, 1, 3600),
            StoreMemoryMB = PowerOfTwo(v, "store-memory", GreydSettings.DefaultStoreMemoryMB, 1, 65536),
            StoreIndexMB = PowerOfTwo(v, "store-index", GreydSettings.DefaultStoreIndexMB, 1, 65536),
            SharedStore = SharedStore(v),
            SharedStoreTimeout = Milliseconds(v, "store-timeout", 50, 1, 10_000),
            SharedStorePasswordFile = NonEmpty(v, "store-password-file"),
            AdminSocket = NonEmpty(v, "admin-socket") is { } admin ? admin == "none" ? null : admin : Admin.AdminServer.DefaultPath,
            AdminGroup = NonEmpty(v, "admin-group"),

            Metrics = Metrics(NonEmpty(v, "metrics")),
            SenderPools = SenderPools(v),
            Greylist = greylist,
        };
    }

    private static Greyd.Storage.Redis.RedisStoreOptions? SharedStore(Dictionary<string, string?> v)
    {
        if (NonEmpty(v, "store") is not { } url)
        {
            foreach (string name in (string[])["store-timeout", "store-connect-timeout", "store-prefix", "store-password-file", "store-ca"])
            {
                if (v.ContainsKey(name))
                {
                    throw new FormatException($"--{name} needs --store=redis://...");
                }
            }

            return null;
        }

        var parsed = Greyd.Storage.Redis.RedisStoreOptions.Parse(url);
        if (parsed.Password is not null && v.ContainsKey("store-password-file"))
        {
            throw new FormatException("--store has a password and --store-password-file gives another: use one");
        }

        string prefix = v.TryGetValue("store-prefix", out var p) && p is not null ? CheckText("store-prefix", p) : parsed.Prefix;
        string? ca = NonEmpty(v, "store-ca");
        if (ca is not null && !parsed.Tls)
        {
            throw new FormatException("--store-ca needs a rediss:// (TLS) store");
        }

        return parsed with
        {
            CaFile = ca,
            Prefix = prefix,
            ConnectTimeout = Milliseconds(v, "store-connect-timeout", 1000, 1, 60_000),
        };
    }

    private static Greyd.Hosting.SenderPools.SenderPoolOptions? SenderPools(Dictionary<string, string?> v)
    {
        if (!v.ContainsKey("spf-pools"))
        {
            foreach (string name in (string[])["spf-timeout", "spf-dns"])
            {
                if (v.ContainsKey(name))
                {
                    throw new FormatException($"--{name} needs --spf-pools");
                }
            }

            return null;
        }

        var servers = new List<System.Net.IPEndPoint>();
        if (NonEmpty(v, "spf-dns") is { } list)
        {
            foreach (string part in list.Split(',', StringSplitOptions.TrimEntries))
            {
                servers.Add(Endpoint("spf-dns", list, part, defaultHost: null, defaultPort: 53));
            }
        }

        return new Greyd.Hosting.SenderPools.SenderPoolOptions
        {
            Timeout = Milliseconds(v, "spf-timeout", Greyd.Hosting.SenderPools.SenderPoolOptions.DefaultTimeoutMs, 10, 30_000),
            DnsServers = servers,
        };
    }

    // Parsed here rather than at bind time: an IP address or localhost, never a name to resolve.
    private static System.Net.IPEndPoint? Metrics(string? text) =>
        text is null ? null : Endpoint("metrics", text, text, defaultHost: "127.0.0.1", defaultPort: null);

    /// <summary>
    /// <c>HOST:PORT</c>, <c>[V6]:PORT</c>, or with a default port a bare <c>HOST</c>/<c>V6</c>; with a default host a
    /// bare <c>PORT</c>. HOST is an IPv4 address or localhost, never a name to resolve.
    /// </summary>
    private static System.Net.IPEndPoint Endpoint(string option, string whole, string text, string? defaultHost, int? defaultPort)
    {
        string host;
        string? portText;
        // A bare address: IPv4 without a colon, or IPv6 (two colons or more, no brackets; .NET would also take
        // "[v6]:port" and drop the port).
        if (defaultPort is not null && !text.Contains('[')
            && (text == "localhost" || (System.Net.IPAddress.TryParse(text, out _) && text.Count(c => c == ':') != 1)))
        {
            host = text;
            portText = null;
        }
        else if (defaultPort is not null && text.StartsWith('[') && text.EndsWith(']'))
        {
            host = text;
            portText = null;
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0 && defaultHost is null)
            {
                throw new FormatException($"--{option}={whole}: '{text}' is not an IP address");
            }

            host = colon >= 0 ? text[..colon] : defaultHost!;
            portText = text[(colon + 1)..];
        }

        int port = defaultPort ?? 0;
        if (portText is not null
            && (!IsDigits(portText) || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException($"--{option}={whole}: not a port number (1 to 65535)");
        }

        bool bracketed = host.Length > 2 && host[0] == '[' && host[^1] == ']';
        var address = host == "localhost" ? System.Net.IPAddress.Loopback
            : bracketed && System.Net.IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? v6
            : defaultPort is not null && System.Net.IPAddress.TryParse(host, out var bare6) && bare6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? bare6
            : host.Count(c => c == '.') == 3 && System.Net.IPAddress.TryParse(host, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? v4
            : throw new FormatException($"--{option}={whole}: HOST must be an IPv4 address, an IPv6 address in brackets, or localhost");
        return new System.Net.IPEndPoint(address, port);
    }

    private static TimeSpan Milliseconds(Dictionary<string, string?> v, string name, long fallback, long min, long max)
    {
        if (!v.TryGetValue(name, out var text) || text is null)
        {
            return TimeSpan.FromMilliseconds(fallback);
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw new FormatException($"--{name}={text}: must be a number of milliseconds from {min} to {max}");
        }

        return TimeSpan.FromMilliseconds(value);
    }

    private static string? NonEmpty(Dictionary<string, string?> v, string name) =>
        v.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    // postgrey: an integer option set to 0 means its default.
    private static long Integer(Dictionary<string, string?> v, string name, long fallback, long min, long max)
    {
        if (!v.TryGetValue(name, out var text) || text is null)
        {
            return fallback;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw new FormatException($"--{name}={text}: not a number");
        }

        if (value == 0)
        {
            return fallback;
        }

        if (value < Math.Max(min, 1) || value > max)
        {
            throw new FormatException($"--{name}={text}: must be between {Math.Max(min, 1)} and {max} (0 means {fallback})");
        }

        return value;
    }

    private static long PowerOfTwo(Dictionary<string, string?> v, string name, long fallback, long min, long max)
    {
        long value = Integer(v, name, fallback, min, max);
        if ((value & (value - 1)) != 0)
        {
            throw new FormatException($"--{name}={v[name]}: must be a power of two (1, 2, 4, ... {max})");
        }

        return value;
    }

    private static TimeSpan Seconds(Dictionary<string, string?> v, string name, double fallback, double min, double max)
    {
        if (!v.TryGetValue(name, out var text) || text is null)
        {
            return TimeSpan.FromSeconds(fallback);
        }

        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value < min || value > max)
        {
            throw new FormatException($"--{name}={text}: must be a number of seconds from {min} to {max}");
        }

        return TimeSpan.FromSeconds(value);
    }

    private static long RetryWindow(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 2 * 86400;
        }

        bool hours = text[^1] is 'h' or 'H';
        string digits = hours ? text[..^1] : text;
        if (!IsDigits(digits) || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > 36500L * 24)
        {
            throw new FormatException($"--retry-window={text}: must be a number of days, or a number followed by 'h' for hours ('6h' for example)");
        }

        if (n == 0)
        {
            throw new FormatException($"--retry-window={text}: must be more than 0, or no triplet could ever pass");
        }

        return hours ? n * 3600 : n * 86400;
    }

    private static int SocketMode(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return Convert.ToInt32("666", 8);
        }

        int mode = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '7' || mode > 0xfff)
            {
                throw new FormatException($"--socketmode={text}: must be an octal mode such as 0660");
            }

            mode = (mode * 8) + (c - '0');
        }

        return mode == 0 ? Convert.ToInt32("666", 8) : mode;
    }

    private static int AutoWhitelistClients(Dictionary<string, string?> v)
    {
        if (!v.TryGetValue("auto-whitelist-clients", out var text))
        {
            return 5;
        }

        if (string.IsNullOrEmpty(text))
        {
            return 5;
        }

        if (!IsDigits(text) || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            throw new FormatException($"--auto-whitelist-clients={text}: must be a number (0 turns it off)");
        }

        return n;
    }

    private static string Text(Dictionary<string, string?> v, string name, string fallback) =>
        v.TryGetValue(name, out var text) && !string.IsNullOrEmpty(text) ? CheckText(name, text) : fallback;

    // A control character in a reply would break the policy protocol or the mail header.
    private static string CheckText(string name, string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                throw new FormatException($"--{name}: must not contain control characters");
            }
        }

        return text;
    }

    private static bool IsDigits(string text)
    {
        if (text.Length == 0)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<string, (string, Kind)> Build(params (string Name, Kind Kind, string[] Aliases)[] options)
    {
        var map = new Dictionary<string, (string, Kind)>(StringComparer.Ordinal);
        foreach (var (name, kind, aliases) in options)
        {
            map[name] = (name, kind);
            foreach (string alias in aliases)
            {
                map[alias] = (name, kind);
            }
        }

        return map;
    }
}
