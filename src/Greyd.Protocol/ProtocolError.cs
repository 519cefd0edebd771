namespace Greyd.Protocol;

/// <summary>Why a connection was closed for a malformed request.</summary>
public enum ProtocolError
{
    /// <summary>More than the request size limit arrived without an empty line.</summary>
    RequestTooLarge,

    /// <summary>A NUL byte, which the policy protocol's grammar forbids.</summary>
    NulByte,
}
