namespace Greyd.Spf.Evaluation;

/// <summary>RFC 7208 section 5's mechanisms.</summary>
internal enum SpfMechanism
{
    All,
    Include,
    A,
    Mx,
    Ptr,
    Ip4,
    Ip6,
    Exists,
}
