using System.Text;
using Greyd.Policy;
using Greyd.Protocol;

namespace Greyd.Hosting.Tests.Import;

/// <summary>The keys greyd builds for a request, through the same TripletKeyBuilder the daemon uses.</summary>
internal static class GreydKeys
{
    public static PolicyRequest Request(string clientAddress, string sender, string recipient)
    {
        var request = new PolicyRequest();
        (PolicyAttribute, string)[] attributes =
        [
            (PolicyAttribute.Request, "smtpd_access_policy"), (PolicyAttribute.ClientName, "mail.example.net"),
            (PolicyAttribute.ClientAddress, clientAddress), (PolicyAttribute.Sender, sender), (PolicyAttribute.Recipient, recipient),
        ];
        foreach (var (attribute, value) in attributes)
        {
            request.Set(attribute, Encoding.UTF8.GetBytes(value));
        }

        return request;
    }

    public static byte[] Triplet(PolicyRequest request, GreylistOptions options)
    {
        Assert.Null(GreylistPolicy.CheckRequest(request, out var client, out bool addressOk));
        Assert.True(addressOk);
        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        return buffer[..TripletKeyBuilder.WriteTripletKey(request, client, options, buffer)];
    }

    public static byte[] Client(string clientAddress, GreylistOptions options)
    {
        Assert.True(ClientAddress.TryParse(clientAddress, out var client), clientAddress);
        var buffer = new byte[TripletKeyBuilder.MaxKeyLength];
        return buffer[..TripletKeyBuilder.WriteClientKey(client, options, buffer)];
    }

    public static string Text(byte[] key) => Encoding.Latin1.GetString(key);
}
