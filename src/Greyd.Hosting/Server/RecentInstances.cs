namespace Greyd.Hosting.Server;

/// <summary>
/// postgrey's memory of the last ten message instances, so a message with several newly passed recipients gets
/// one X-Greylist header, not one per recipient.
/// </summary>
public sealed class RecentInstances
{
    private const int Capacity = 10;

    private readonly byte[][] _instances = new byte[Capacity][];
    private readonly int[] _lengths = new int[Capacity];
    private readonly Lock _gate = new();
    private int _next;

    public RecentInstances()
    {
        for (int i = 0; i < Capacity; i++)
        {
            _instances[i] = new byte[Greyd.Protocol.PolicyRequest.MaxValueLength];
            _lengths[i] = -1;
        }
    }

    /// <summary>True, and remembered, when the instance was not among the last ten; an absent instance is always new.</summary>
    public bool IsNew(ReadOnlySpan<byte> instance, bool present)
    {
        if (!present)
        {
            return true;
        }

        lock (_gate)
        {
            for (int i = 0; i < Capacity; i++)
            {
                if (_lengths[i] == instance.Length && instance.SequenceEqual(_instances[i].AsSpan(0, _lengths[i])))
                {
                    return false;
                }
            }

            instance.CopyTo(_instances[_next]);
            _lengths[_next] = instance.Length;
            _next = (_next + 1) % Capacity;
            return true;
        }
    }
}
