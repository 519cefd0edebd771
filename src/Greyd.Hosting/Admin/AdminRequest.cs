using System.Text;
using System.Text.Json;
using Greyd.Policy;
using Greyd.Protocol;

namespace Greyd.Hosting.Admin;

/// <summary>Reading an admin request's fields, and turning client/sender/recipient fields into postgrey's keys.</summary>
public static class AdminRequest
{
    /// <summary>A string field, or null when absent; a field of another type is refused.</summary>
    public static string? String(JsonElement request, string name) =>
        !request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new AdminException($"\"{name}\" must be a string");

    /// <summary>An integer field, or <paramref name="fallback"/> when absent.</summary>
    public static long Integer(JsonElement request, string name, long fallback) =>
        !request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? fallback
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) ? n
        : throw new AdminException($"\"{name}\" must be an integer");

    public static bool Flag(JsonElement request, string name) =>
        request.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>A policy request as Postfix would send it for these fields (client_name defaults to "unknown").</summary>
    public static PolicyRequest PolicyRequestOf(JsonElement request, out ClientAddress client)
    {
        string address = String(request, "client_address") ?? throw new AdminException("--client-address is required");
        var policy = new PolicyRequest();
        policy.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        Set(policy, PolicyAttribute.ClientAddress, address);
        Set(policy, PolicyAttribute.ClientName, String(request, "client_name") ?? "unknown");
        Set(policy, PolicyAttribute.Sender, String(request, "sender") ?? string.Empty);
        Set(policy, PolicyAttribute.Recipient, String(request, "recipient") ?? string.Empty);
        if (String(request, "helo_name") is { } helo)
        {
            Set(policy, PolicyAttribute.HeloName, helo);
        }
        if (!ClientAddress.TryParse(address, out client))
        {
            throw new AdminException($"not an IP address: {address}");
        }

        return policy;
    }

    /// <summary>The triplet key greyd builds for these fields, exactly as for a request.</summary>
    public static byte[] TripletKey(JsonElement request, GreylistOptions options)
    {
        if (String(request, "recipient") is not { Length: > 0 })
        {
            throw new AdminException("--recipient is required for a triplet");
        }

        var policy = PolicyRequestOf(request, out var client);
        var key = new byte[TripletKeyBuilder.MaxKeyLength];
        return key[..TripletKeyBuilder.WriteTripletKey(policy, client, options, key)];
    }

    /// <summary>The AWL key greyd builds for this client address.</summary>
    public static byte[] ClientKey(ClientAddress client, GreylistOptions options)
    {
        var key = new byte[ClientAddress.MaxTextLength + 1];
        return key[..TripletKeyBuilder.WriteClientKey(client, options, key)];
    }

    private static void Set(PolicyRequest policy, PolicyAttribute attribute, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        if (bytes.Length > PolicyRequest.MaxValueLength)
        {
            throw new AdminException($"{attribute} is longer than {PolicyRequest.MaxValueLength} bytes");
        }

        policy.Set(attribute, bytes);
    }
}
