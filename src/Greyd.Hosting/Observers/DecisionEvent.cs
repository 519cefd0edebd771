using Greyd.Policy;

namespace Greyd.Hosting.Observers;

/// <summary>One request's decision, as observers see it. Spans point into the request and live only for the call.</summary>
/// <param name="Outcome">What the engine decided (a first pass stays <see cref="PolicyOutcome.FirstPass"/> even when the header was already added).</param>
/// <param name="Now">The request time (Unix seconds).</param>
/// <param name="Sender">The sender as Postfix sent it (empty for the null sender).</param>
/// <param name="FirstSeen">The triplet's first sighting, or 0 when no triplet was looked at.</param>
/// <param name="Waited">For a first pass: seconds from the first sighting, the delay this mail suffered.</param>
/// <param name="FirstRetry">True when this request is the triplet's first retry.</param>
public readonly ref struct DecisionEvent(PolicyOutcome outcome, long now, ReadOnlySpan<byte> sender, long firstSeen, long waited, bool firstRetry)
{
    public PolicyOutcome Outcome { get; } = outcome;

    public long Now { get; } = now;

    public ReadOnlySpan<byte> Sender { get; } = sender;

    public long FirstSeen { get; } = firstSeen;

    public long Waited { get; } = waited;

    public bool FirstRetry { get; } = firstRetry;
}
