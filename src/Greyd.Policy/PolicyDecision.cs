namespace Greyd.Policy;

/// <summary>The engine's answer for the triplet stage.</summary>
/// <param name="Outcome">What to answer and log.</param>
/// <param name="Missing">Seconds still to wait, for a greylisted triplet.</param>
/// <param name="Waited">Seconds since the first sighting, for a first pass.</param>
public readonly record struct PolicyDecision(PolicyOutcome Outcome, long Missing, long Waited)
{
    /// <summary>True when the auto-whitelist counts this pass (postgrey counts before the header de-duplication).</summary>
    public bool CountsForAutoWhitelist => Outcome == PolicyOutcome.FirstPass;
}
