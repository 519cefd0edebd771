using System.Globalization;
using System.Net;

namespace Greyd.Storage.Redis;

/// <summary>
/// Where the shared store is and how to reach it: <c>redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]</c>, or
/// <c>rediss://</c> for TLS. Redis, Valkey and Garnet all speak this protocol.
/// </summary>
public sealed record RedisStoreOptions
{
    public const string DefaultPrefix = "greyd:";

    public required string Host { get; init; }

    public int Port { get; init; } = 6379;

    public int Database { get; init; }

    /// <summary>The ACL user, or null for the default user.</summary>
    public string? User { get; init; }

    public string? Password { get; init; }

    public bool Tls { get; init; }

    /// <summary>A PEM file of the CA that signed the server's certificate, when it is not in the system's trust store.</summary>
    public string? CaFile { get; init; }

    /// <summary>Put before every key, so greyd shares a database with other programs (and several greyd setups).</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The address for logs and status lines: never the password.</summary>
    public string Name
    {
        get
        {
            string host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
            string user = User is null ? string.Empty : User + "@";
            return string.Create(CultureInfo.InvariantCulture, $"{(Tls ? "rediss" : "redis")}://{user}{host}:{Port}/{Database}");
        }
    }

    /// <summary>The address only: a record's default text would show the password.</summary>
    public override string ToString() => Name;

    /// <summary>Parses a store URL; a bad one throws <see cref="FormatException"/> with a message for the user.</summary>
    public static RedisStoreOptions Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss") || string.IsNullOrEmpty(uri.Host))
        {
            throw new FormatException($"--store={Redact(url)}: must be redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or rediss://... for TLS");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new FormatException($"--store={Redact(url)}: options go in their own --store-... options, not after '?'");
        }

        string path = uri.AbsolutePath.Trim('/');
        int database = 0;
        if (path.Length > 0 && (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database) || database > 15_999))
        {
            throw new FormatException($"--store={Redact(url)}: the database must be a number (/0, /1, ...)");
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            int colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(colon >= 0 ? uri.UserInfo[..colon] : uri.UserInfo);
            user = name.Length > 0 ? name : null;
            password = colon >= 0 ? Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]) : null;
        }

        string host = uri.HostNameType == UriHostNameType.IPv6 ? IPAddress.Parse(uri.Host.Trim('[', ']')).ToString() : uri.Host;
        return new RedisStoreOptions
        {
            Host = host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port,
            Database = database,
            User = user,
            Password = password,
            Tls = uri.Scheme == "rediss",
        };
    }

    // A URL in an error message must not show its password either.
    private static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        int at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme)
        {
            return url;
        }

        int colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..(colon + 1)] + "***" + url[at..] : url;
    }
}
