using Greyd.Storage;

namespace Greyd.Policy.Tests;

public class RecordMergeTests
{
    private const long T0 = TestRequests.T0;
    private static readonly GreylistOptions Options = new();

    private static TripletRecord Record(long first, long last) => new(T0 + first, T0 + last);

    [Theory]
    [InlineData(0, 50, 20, 100, 0, 100)] // neither passed, nor together: the union
    [InlineData(400, 400, 0, 0, 0, 0)] // neither passed, together they would: the earlier first sighting, whole
    [InlineData(0, 0, 0, 400, 0, 400)] // one passed: the union
    [InlineData(1000, 1000, 0, 400, 0, 1000)] // a pass wins, and the later sighting keeps it alive
    [InlineData(0, 400, 100, 200, 0, 400)] // a passed record already covering the other: unchanged
    [InlineData(0, 100, 0, 200, 0, 200)] // the same first sighting, neither passed: the later last one
    public void TripletsKeepTheEarliestAndLatestSightingsButNeverInventAPass(long firstA, long lastA, long firstB, long lastB, long first, long last)
    {
        Assert.Equal(Record(first, last), RecordMerge.Triplets(Record(firstA, lastA), Record(firstB, lastB), Options.Delay));
        Assert.Equal(Record(first, last), RecordMerge.Triplets(Record(firstB, lastB), Record(firstA, lastA), Options.Delay));
    }

    [Fact]
    public void OverRandomPairsTheMergePassesOnlyWhenOneOfThemPassedAndNeverMovesASightingOutward()
    {
        var random = new Random(7);
        int inventedWouldBe = 0;
        for (int i = 0; i < 100_000; i++)
        {
            long fa = random.Next(0, 1000), fb = random.Next(0, 1000);
            var a = Record(fa, fa + random.Next(0, 600));
            var b = Record(fb, fb + random.Next(0, 600));
            var merged = RecordMerge.Triplets(a, b, Options.Delay);
            bool eitherPassed = a.HasPassed(Options.Delay) || b.HasPassed(Options.Delay);
            Assert.Equal(eitherPassed, merged.HasPassed(Options.Delay));
            Assert.InRange(merged.FirstSeen, Math.Min(a.FirstSeen, b.FirstSeen), Math.Max(a.FirstSeen, b.FirstSeen));
            Assert.InRange(merged.LastSeen, Math.Min(a.LastSeen, b.LastSeen), Math.Max(a.LastSeen, b.LastSeen));
            Assert.Equal(merged, RecordMerge.Triplets(b, a, Options.Delay));
            inventedWouldBe += !eitherPassed && Math.Max(a.LastSeen, b.LastSeen) - Math.Min(a.FirstSeen, b.FirstSeen) >= Options.Delay ? 1 : 0;
        }

        // The dangerous case (a naive union would pass) must have come up often, or the loop proves little.
        Assert.True(inventedWouldBe > 1000, $"{inventedWouldBe}");
    }

    [Fact]
    public void ImportTripletSaysWhatItDid()
    {
        var stored = Record(0, 0);
        Assert.Equal(ImportOutcome.Added, RecordMerge.ImportTriplet(null, Record(0, 10), T0 + 20, Options, out var result));
        Assert.Equal(Record(0, 10), result);
        Assert.Equal(ImportOutcome.Merged, RecordMerge.ImportTriplet(stored, Record(-100, -50), T0 + 20, Options, out result));
        Assert.Equal(Record(-100, 0), result);
        Assert.Equal(ImportOutcome.Kept, RecordMerge.ImportTriplet(stored, Record(0, 0), T0 + 20, Options, out result));
        Assert.Equal(stored, result);

        // A stored record expired at now counts as absent; an imported one that expired is not stored.
        long later = T0 + Options.RetryWindow + 1;
        Assert.Equal(ImportOutcome.Added, RecordMerge.ImportTriplet(stored, Record(Options.RetryWindow, Options.RetryWindow), later, Options, out result));
        Assert.Equal(ImportOutcome.Expired, RecordMerge.ImportTriplet(null, Record(0, 0), later, Options, out result));
        Assert.Null(result);
        Assert.Equal(ImportOutcome.Expired, RecordMerge.ImportTriplet(stored, Record(-10, -10), later - 5, Options, out result));
        Assert.Equal(stored, result);
    }

    [Theory]
    [InlineData(RecordMerge.MinTime - 1, RecordMerge.MinTime)] // before 2000
    [InlineData(T0 + 10, T0 + 9)] // first after last
    [InlineData(T0, T0 + RecordMerge.MaxAhead + 1)] // more than a day ahead
    public void ImportTripletRefusesRecordsThatCannotBeReal(long first, long last) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordMerge.ImportTriplet(null, new TripletRecord(first, last), T0, Options, out _));

    [Fact]
    public void ImportClientKeepsTheHigherCountAndTheLaterLastCount()
    {
        var stored = new ClientRecord(3, T0);
        Assert.Equal(ImportOutcome.Merged, RecordMerge.ImportClient(stored, new ClientRecord(5, T0 - 7200), T0, Options, out var result));
        Assert.Equal(new ClientRecord(5, T0), result);
        Assert.Equal(ImportOutcome.Merged, RecordMerge.ImportClient(stored, new ClientRecord(1, T0 + 10), T0 + 10, Options, out result));
        Assert.Equal(new ClientRecord(3, T0 + 10), result);
        Assert.Equal(ImportOutcome.Kept, RecordMerge.ImportClient(stored, new ClientRecord(2, T0 - 10), T0, Options, out result));
        Assert.Equal(ImportOutcome.Expired, RecordMerge.ImportClient(stored, new ClientRecord(9, T0 - Options.MaxAge - 1), T0, Options, out result));
        Assert.Equal(stored, result);
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordMerge.ImportClient(null, new ClientRecord(0, T0), T0, Options, out _));
    }
}
