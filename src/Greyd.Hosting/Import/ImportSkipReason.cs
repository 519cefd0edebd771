namespace Greyd.Hosting.Import;

/// <summary>Why a record read from postgrey's database is not imported.</summary>
public enum ImportSkipReason
{
    /// <summary>The key is in no format postgrey ever wrote.</summary>
    MalformedKey,

    /// <summary>The value is not <c>first,last</c> (a triplet) or <c>count,last</c> (a client).</summary>
    MalformedValue,

    /// <summary>The key holds a network wider than greyd's key: a /24 cannot become a /25 or a host key.</summary>
    NetworkTooWide,

    /// <summary>A <c>--privacy</c> key (a SHA-1 digest), and greyd runs without <c>--privacy</c>.</summary>
    PrivacyKey,

    /// <summary>An AWL client, and greyd's AWL is off (<c>--auto-whitelist-clients=0</c>).</summary>
    AutoWhitelistOff,

    /// <summary>A second value of a key (a duplicate set), which postgrey never writes.</summary>
    Duplicate,

    /// <summary>Longer than any key greyd builds.</summary>
    KeyTooLong,
}
