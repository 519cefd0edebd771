using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>What one request's store work found.</summary>
/// <param name="ClientWhitelisted">The client is auto-whitelisted; the triplet was not looked at.</param>
/// <param name="Triplet">The triplet's sighting (default when the client is whitelisted).</param>
/// <param name="ClientCount">The client's new AWL count when this request's first pass was counted, else 0.</param>
public readonly record struct RequestObservation(bool ClientWhitelisted, TripletObservation Triplet, long ClientCount)
{
    public static RequestObservation Whitelisted => new(true, default, 0);
}
