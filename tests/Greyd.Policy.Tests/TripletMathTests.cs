namespace Greyd.Policy.Tests;

public class TripletMathTests
{
    private const long T0 = TestRequests.T0;
    private const long Day = 86400;

    /// <summary>One triplet's stored record, threaded through Observe and Decide as the store would.</summary>
    private sealed class Triplet(GreylistOptions options)
    {
        public TripletRecord? Stored { get; set; }

        public TripletObservation LastObservation { get; private set; }

        public PolicyDecision At(long t)
        {
            long now = T0 + t;
            LastObservation = TripletMath.Observe(Stored, now, options);
            Stored = LastObservation.Stored;
            return GreylistPolicy.Decide(LastObservation, now, options);
        }
    }

    private static TripletRecord Record(long first, long last) => new(T0 + first, T0 + last);

    [Fact]
    public void ObserveWalksTheCoreLifeCycle()
    {
        // Section 8.2, V01-V05, one triplet.
        var triplet = new Triplet(new GreylistOptions());

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(0));
        Assert.Equal(Record(0, 0), triplet.Stored);
        Assert.False(triplet.LastObservation.LastWasSuccessful);

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistEarlyRetry, 240, 60), triplet.At(60));
        Assert.Equal(Record(0, 60), triplet.Stored);

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistEarlyRetry, 1, 299), triplet.At(299));
        Assert.Equal(Record(0, 299), triplet.Stored);

        var firstPass = triplet.At(300);
        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 300), firstPass);
        Assert.True(firstPass.CountsForAutoWhitelist);
        Assert.Equal(Record(0, 300), triplet.Stored);
        Assert.False(triplet.LastObservation.LastWasSuccessful);

        var pass = triplet.At(301);
        Assert.Equal(PolicyOutcome.Pass, pass.Outcome);
        Assert.False(pass.CountsForAutoWhitelist);
        Assert.True(triplet.LastObservation.LastWasSuccessful);
        Assert.Equal(Record(0, 301), triplet.Stored);

        Assert.Equal(PolicyOutcome.Pass, triplet.At(400).Outcome);
        Assert.Equal(Record(0, 400), triplet.Stored);
    }

    [Fact]
    public void ObserveGreylistsTheSameSecondAgainAsNew()
    {
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(0));
        Assert.Equal(Record(0, 0), triplet.Stored);
    }

    [Fact]
    public void ObserveKeepsAPassedTripletPassedUntilMaxAgeAfterItsLastSighting()
    {
        // V12 in greyd: an entry unseen for longer than max-age is treated as absent (postgrey said DUNNO).
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);
        triplet.At(300);
        triplet.At(400);

        // Ten days later: far outside the retry window, but a passed triplet does not care.
        Assert.Equal(PolicyOutcome.Pass, triplet.At(400 + (10 * Day)).Outcome);
        Assert.Equal(Record(0, 400 + (10 * Day)), triplet.Stored);

        // Exactly max-age after the last sighting it still counts.
        Assert.Equal(PolicyOutcome.Pass, triplet.At(400 + (45 * Day)).Outcome);

        // One second more than max-age: a new triplet.
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(400 + (80 * Day) + 1));
        Assert.Equal(Record(400 + (80 * Day) + 1, 400 + (80 * Day) + 1), triplet.Stored);
    }

    [Fact]
    public void ObserveTreatsATripletUnseenForFortyDaysAsNew()
    {
        // V12 (greyd deviation a): postgrey answered DUNNO because it never checked max-age at lookup.
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);
        triplet.At(300);
        triplet.At(400);
        Assert.Equal(PolicyOutcome.GreylistNew, triplet.At(3456000).Outcome);
        Assert.Equal(Record(3456000, 3456000), triplet.Stored);
    }

    [Fact]
    public void ObserveResetsANeverPassedTripletWhoseFirstRetryComesAfterTheWindow()
    {
        // V18: window 2 days; one second late gives a new triplet, which then needs its own delay.
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(172801));
        Assert.Equal(Record(172801, 172801), triplet.Stored);

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistEarlyRetry, 1, 299), triplet.At(173100));
        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 300), triplet.At(173101));
        Assert.Equal(Record(172801, 173101), triplet.Stored);
    }

    [Fact]
    public void ObservePassesAtExactlyTheEndOfTheRetryWindow()
    {
        // V19.
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);
        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 172800), triplet.At(172800));
        Assert.Equal(Record(0, 172800), triplet.Stored);
    }

    [Theory]
    [InlineData(21600, 21601, false)] // V20: --retry-window=6h
    [InlineData(21600, 21600, true)] // V20d: 6H, at the boundary
    [InlineData(86400, 86401, false)] // V21: --retry-window=1 (days)
    [InlineData(86400, 86400, true)]
    public void ObserveMeasuresTheRetryWindowInSeconds(long window, long retry, bool passes)
    {
        var triplet = new Triplet(new GreylistOptions { RetryWindow = window });
        triplet.At(0);
        var decision = triplet.At(retry);
        if (passes)
        {
            Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, retry), decision);
        }
        else
        {
            Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), decision);
            Assert.Equal(Record(retry, retry), triplet.Stored);
        }
    }

    [Fact]
    public void ObserveMeasuresTheWindowFromFirstSeenSoEarlyRetriesDoNotExtendIt()
    {
        // A delay longer than the window: the retries keep the entry fresh, but the window still runs from first.
        var triplet = new Triplet(new GreylistOptions { Delay = 200000 });
        triplet.At(0);
        Assert.Equal(PolicyOutcome.GreylistEarlyRetry, triplet.At(100000).Outcome);
        Assert.Equal(PolicyOutcome.GreylistEarlyRetry, triplet.At(172800).Outcome);
        Assert.Equal(Record(0, 172800), triplet.Stored);

        Assert.Equal(PolicyOutcome.GreylistNew, triplet.At(172801).Outcome);
        Assert.Equal(Record(172801, 172801), triplet.Stored);
    }

    [Fact]
    public void ObserveHonoursAShortDelay()
    {
        // V22: --delay=60.
        var triplet = new Triplet(new GreylistOptions { Delay = 60 });
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 60, 0), triplet.At(0));
        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistEarlyRetry, 1, 59), triplet.At(59));
        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 60), triplet.At(60));
        Assert.Equal(PolicyOutcome.Pass, triplet.At(61).Outcome);
    }

    [Fact]
    public void ObserveGreylistsEveryTimeWithAZeroRetryWindow()
    {
        // M02: --retry-window=0.
        var triplet = new Triplet(new GreylistOptions { RetryWindow = 0 });
        foreach (long t in new long[] { 0, 300, 301, 100000 })
        {
            Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(t));
            Assert.Equal(Record(t, t), triplet.Stored);
        }
    }

    [Fact]
    public void ObserveResetsANeverPassedTripletWhoseFirstSeenLiesInTheFuture()
    {
        // V89: seen at t=1000, then the clock goes back to t=0.
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(1000);

        Assert.Equal(new PolicyDecision(PolicyOutcome.GreylistNew, 300, 0), triplet.At(0));
        Assert.True(triplet.LastObservation.CorrectedFutureFirstSeen);
        Assert.Equal(Record(0, 0), triplet.Stored);

        Assert.Equal(new PolicyDecision(PolicyOutcome.FirstPass, 0, 300), triplet.At(300));
        Assert.False(triplet.LastObservation.CorrectedFutureFirstSeen);
    }

    [Fact]
    public void ObserveKeepsAPassedTripletPassedWhenTheClockStepsBack()
    {
        // greyd deviation b: postgrey greylisted again here.
        var triplet = new Triplet(new GreylistOptions());
        triplet.At(0);
        triplet.At(300);

        var decision = triplet.At(-1000);
        Assert.Equal(PolicyOutcome.Pass, decision.Outcome);
        Assert.False(decision.CountsForAutoWhitelist);
        Assert.True(triplet.LastObservation.CorrectedFutureFirstSeen);
        Assert.True(triplet.LastObservation.LastWasSuccessful);
        Assert.Equal(Record(-1300, -1000), triplet.Stored);
        Assert.True(triplet.Stored!.Value.HasPassed(300));

        Assert.Equal(PolicyOutcome.Pass, triplet.At(-999).Outcome);
        Assert.False(triplet.LastObservation.CorrectedFutureFirstSeen);
    }

    [Fact]
    public void ObserveKeepsAPassedTripletPassedWhenTheClockStepsBackIntoTheDelay()
    {
        // Passed at t=1000 (first seen t=0); the clock then steps back to t=100, inside the first delay.
        var triplet = new Triplet(new GreylistOptions()) { Stored = Record(0, 1000) };

        var decision = triplet.At(100);
        Assert.Equal(PolicyOutcome.Pass, decision.Outcome);
        Assert.True(triplet.LastObservation.LastWasSuccessful);
        Assert.Equal(100, triplet.Stored!.Value.LastSeen - T0);
        Assert.True(triplet.Stored!.Value.HasPassed(300));

        // The next request must neither greylist nor give a second first pass (header, AWL count).
        Assert.Equal(PolicyOutcome.Pass, triplet.At(150).Outcome);
        Assert.Equal(PolicyOutcome.Pass, triplet.At(400).Outcome);
    }

    [Fact]
    public void ObserveCreatesANewRecordWhenNothingIsStored()
    {
        var observation = TripletMath.Observe(null, T0, new GreylistOptions());
        Assert.Equal(new TripletObservation(new TripletRecord(T0, T0), false, false), observation);
        Assert.Equal(T0, observation.FirstSeen);
    }

    [Fact]
    public void IsExpiredAppliesMaxAgeToEveryEntryAndTheRetryWindowToNeverPassedEntries()
    {
        var options = new GreylistOptions();
        var passed = Record(0, 300);
        var neverPassed = Record(0, 299);

        Assert.False(TripletMath.IsExpired(passed, T0 + 300 + (35 * Day), options));
        Assert.True(TripletMath.IsExpired(passed, T0 + 300 + (35 * Day) + 1, options));
        Assert.False(TripletMath.IsExpired(passed, T0 + 300 + (3 * Day), options));

        Assert.False(TripletMath.IsExpired(neverPassed, T0 + 299 + (2 * Day), options));
        Assert.True(TripletMath.IsExpired(neverPassed, T0 + 299 + (2 * Day) + 1, options));

        // A last-seen in the future (clock stepped back) never expires the entry.
        Assert.False(TripletMath.IsExpired(passed, T0 - (100 * Day), options));
    }

    [Fact]
    public void HasPassedNeedsAtLeastTheDelayBetweenFirstAndLast()
    {
        Assert.True(Record(0, 300).HasPassed(300));
        Assert.False(Record(0, 299).HasPassed(300));
        Assert.True(Record(0, 60).HasPassed(60));
    }
}
