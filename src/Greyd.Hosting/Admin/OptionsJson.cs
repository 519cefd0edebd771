using System.Text.Json;
using Greyd.Policy;

namespace Greyd.Hosting.Admin;

/// <summary>The greylisting options commands need to know (to show them, or to key imported records as greyd does).</summary>
public static class OptionsJson
{
    public static void Write(Utf8JsonWriter json, GreylistOptions options)
    {
        json.WriteNumber("delay", options.Delay);
        json.WriteNumber("retry_window", options.RetryWindow);
        json.WriteNumber("max_age_days", options.MaxAgeDays);
        json.WriteNumber("auto_whitelist_clients", options.AutoWhitelistClients);
        json.WriteBoolean("privacy", options.Privacy);
        json.WriteBoolean("lookup_by_host", options.LookupByHost);
        json.WriteNumber("ipv4cidr", options.IPv4Cidr);
        json.WriteNumber("ipv6cidr", options.IPv6Cidr);
    }

    /// <summary>The options <see cref="Write"/> wrote; everything else keeps its default.</summary>
    public static GreylistOptions Read(JsonElement json) => new()
    {
        Delay = json.GetProperty("delay").GetInt32(),
        RetryWindow = json.GetProperty("retry_window").GetInt64(),
        MaxAgeDays = json.GetProperty("max_age_days").GetInt32(),
        AutoWhitelistClients = json.GetProperty("auto_whitelist_clients").GetInt32(),
        Privacy = json.GetProperty("privacy").GetBoolean(),
        LookupByHost = json.GetProperty("lookup_by_host").GetBoolean(),
        IPv4Cidr = json.GetProperty("ipv4cidr").GetInt32(),
        IPv6Cidr = json.GetProperty("ipv6cidr").GetInt32(),
    };
}
