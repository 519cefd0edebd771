using System.Text;
using Greyd.Protocol;

namespace Greyd.Policy.Tests;

/// <summary>Builds the spec's default request D (section 8.1) with the given differences.</summary>
internal static class TestRequests
{
    public const long T0 = 1700000000;

    public static PolicyRequest Create(
        string? clientAddress = "192.0.2.10",
        string? sender = "alice@example.net",
        string? recipient = "bob@example.org",
        string? clientName = "mail.example.net")
    {
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        SetOrOmit(request, PolicyAttribute.ClientAddress, clientAddress);
        SetOrOmit(request, PolicyAttribute.ClientName, clientName);
        SetOrOmit(request, PolicyAttribute.Sender, sender);
        SetOrOmit(request, PolicyAttribute.Recipient, recipient);
        return request;
    }

    public static ClientAddress Address(string text)
    {
        Assert.True(ClientAddress.TryParse(text, out var address), text);
        return address;
    }

    public static byte[] TripletKey(PolicyRequest request, GreylistOptions options)
    {
        Assert.Null(GreylistPolicy.CheckRequest(request, out var client, out bool addressOk));
        Assert.True(addressOk);
        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        int n = TripletKeyBuilder.WriteTripletKey(request, client, options, buffer);
        return buffer[..n];
    }

    public static string TripletKeyText(PolicyRequest request, GreylistOptions options) =>
        Encoding.UTF8.GetString(TripletKey(request, options));

    public static byte[] ClientKey(ClientAddress client, GreylistOptions options)
    {
        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        int n = TripletKeyBuilder.WriteClientKey(client, options, buffer);
        return buffer[..n];
    }

    private static void SetOrOmit(PolicyRequest request, PolicyAttribute attribute, string? value)
    {
        if (value is not null)
        {
            request.Set(attribute, Encoding.UTF8.GetBytes(value));
        }
    }
}
