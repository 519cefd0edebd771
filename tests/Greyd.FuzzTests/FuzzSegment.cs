using System.Buffers;

namespace Greyd.FuzzTests;

/// <summary>Cuts a byte array into a multi-segment sequence at random points, as a socket would deliver it.</summary>
internal sealed class FuzzSegment : ReadOnlySequenceSegment<byte>
{
    private FuzzSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, Random random)
    {
        int pieces = random.Next(4) == 0 ? 0 : random.Next(1, Math.Min(random.Next(2) == 0 ? 4 : 32, data.Length + 2));
        var cuts = new List<int>(pieces + 2) { 0 };
        for (int i = 0; i < pieces; i++)
        {
            cuts.Add(random.Next(data.Length + 1)); // duplicates make empty segments, which are legal
        }

        cuts.Add(data.Length);
        cuts.Sort();
        var first = new FuzzSegment(data[cuts[0]..cuts[1]], 0);
        var last = first;
        for (int i = 1; i + 1 < cuts.Count; i++)
        {
            var next = new FuzzSegment(data[cuts[i]..cuts[i + 1]], cuts[i]);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
