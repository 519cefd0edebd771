namespace Greyd.Protocol;

/// <summary>
/// One Postfix policy request: the attributes greyd reads, as raw bytes cut at 512 bytes as postgrey does.
/// The buffers are reused for every request on a connection, so reading allocates nothing.
/// </summary>
public sealed class PolicyRequest
{
    /// <summary>postgrey cuts names and values at 512 characters.</summary>
    public const int MaxValueLength = 512;

    /// <summary>At most this much of an ignored line is kept for the log, as postgrey does.</summary>
    public const int MaxGarbageLength = 100;

    private const int AttributeCount = (int)PolicyAttribute.PolicyTestTime + 1;

    private readonly byte[] _values = new byte[AttributeCount * MaxValueLength];
    private readonly int[] _lengths = new int[AttributeCount];
    private readonly byte[] _garbage = new byte[MaxGarbageLength];
    private int _garbageLength;

    public PolicyRequest() => Reset();

    /// <summary>Lines without '=' seen in this request (postgrey ignores them).</summary>
    public int GarbageLines { get; private set; }

    /// <summary>The first ignored line, cut at 100 bytes.</summary>
    public ReadOnlySpan<byte> FirstGarbage => _garbage.AsSpan(0, _garbageLength);

    public void Reset()
    {
        Array.Fill(_lengths, -1);
        GarbageLines = 0;
        _garbageLength = 0;
    }

    /// <summary>True when the attribute was sent, even with an empty value.</summary>
    public bool Has(PolicyAttribute attribute) => _lengths[(int)attribute] >= 0;

    /// <summary>The attribute's value, empty when it is absent.</summary>
    public ReadOnlySpan<byte> Get(PolicyAttribute attribute)
    {
        int length = _lengths[(int)attribute];
        return length <= 0 ? default : _values.AsSpan((int)attribute * MaxValueLength, length);
    }

    /// <summary>Sets an attribute; a repeated name replaces the earlier value, as in postgrey.</summary>
    public void Set(PolicyAttribute attribute, ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxValueLength)
        {
            value = value[..MaxValueLength];
        }

        value.CopyTo(_values.AsSpan((int)attribute * MaxValueLength, MaxValueLength));
        _lengths[(int)attribute] = value.Length;
    }

    /// <summary>Records a line without '=', which postgrey logs and ignores.</summary>
    public void AddGarbage(ReadOnlySpan<byte> line)
    {
        if (GarbageLines++ == 0)
        {
            int length = Math.Min(line.Length, MaxGarbageLength);
            line[..length].CopyTo(_garbage);
            _garbageLength = length;
        }
    }

    /// <summary>Removes an attribute (for tests and for building requests by hand).</summary>
    public void Remove(PolicyAttribute attribute) => _lengths[(int)attribute] = -1;
}
