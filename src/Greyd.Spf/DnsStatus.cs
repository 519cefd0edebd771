namespace Greyd.Spf;

/// <summary>How a DNS query ended, in the terms RFC 7208 needs.</summary>
public enum DnsStatus
{
    /// <summary>NOERROR; the answer may hold no records of the type asked (NODATA, a "void lookup").</summary>
    Ok,
    /// <summary>NXDOMAIN (RCODE 3): the name does not exist (also a "void lookup").</summary>
    NameError,
    /// <summary>SERVFAIL, REFUSED, a malformed answer, no server reachable or a query timeout: temperror.</summary>
    Failure,
}
