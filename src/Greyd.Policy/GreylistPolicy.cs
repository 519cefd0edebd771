using Greyd.Protocol;

namespace Greyd.Policy;

/// <summary>
/// postgrey's decision, as pure functions: request, stored state and the time in; decision out. No I/O, no clock.
/// </summary>
public static class GreylistPolicy
{
    private static readonly PolicyAttribute[] s_required =
        [PolicyAttribute.ClientAddress, PolicyAttribute.ClientName, PolicyAttribute.Recipient, PolicyAttribute.Sender];

    /// <summary>
    /// Checks what postgrey requires: the four attributes present (empty is fine) and a parseable client address.
    /// Returns the missing attribute, or null; <paramref name="client"/> is valid only when it returns null and
    /// <paramref name="addressOk"/> is true.
    /// </summary>
    public static PolicyAttribute? CheckRequest(PolicyRequest request, out ClientAddress client, out bool addressOk)
    {
        client = default;
        addressOk = false;
        foreach (var attribute in s_required)
        {
            if (!request.Has(attribute))
            {
                return attribute;
            }
        }

        addressOk = ClientAddress.TryParse(request.Get(PolicyAttribute.ClientAddress), out client);
        return null;
    }

    /// <summary>The request time: the clock, or <c>policy_test_time</c> when testing is allowed and it parses.</summary>
    public static long RequestTime(PolicyRequest request, long clock, GreylistOptions options)
    {
        if (options.AllowPolicyTestTime && request.Has(PolicyAttribute.PolicyTestTime)
            && System.Buffers.Text.Utf8Parser.TryParse(request.Get(PolicyAttribute.PolicyTestTime), out long t, out int used)
            && used == request.Get(PolicyAttribute.PolicyTestTime).Length)
        {
            return t;
        }

        return clock;
    }

    /// <summary>
    /// With --spf-pools: a pool triplet that this request starts (new, or its retry window closed) yields to a triplet
    /// already stored under the client network, which is further along (from before the option, or from a sighting
    /// while DNS failed). The caller looks the network triplet up only when this is true.
    /// </summary>
    public static bool PoolTripletYields(TripletObservation pool, long now, GreylistOptions options) =>
        Decide(pool, now, options).Outcome == PolicyOutcome.GreylistNew;

    /// <summary>The triplet stage: greylist inside the delay, PREPEND the header on the first pass, else pass.</summary>
    public static PolicyDecision Decide(TripletObservation observation, long now, GreylistOptions options)
    {
        long waited = now - observation.FirstSeen;
        long missing = options.Delay - waited;
        if (missing > 0)
        {
            var outcome = now != observation.FirstSeen ? PolicyOutcome.GreylistEarlyRetry : PolicyOutcome.GreylistNew;
            return new PolicyDecision(outcome, missing, waited);
        }

        return observation.LastWasSuccessful
            ? new PolicyDecision(PolicyOutcome.Pass, 0, waited)
            : new PolicyDecision(PolicyOutcome.FirstPass, 0, waited);
    }
}
