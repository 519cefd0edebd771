using System.Diagnostics.CodeAnalysis;

namespace Greyd.Protocol;

/// <summary>A request that cannot be read; the connection that sent it is closed without a reply.</summary>
public sealed class PolicyProtocolException : Exception
{
    public PolicyProtocolException()
    {
    }

    public PolicyProtocolException(string message)
        : base(message)
    {
    }

    public PolicyProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PolicyProtocolException(ProtocolError error, string message)
        : base(message) => Error = error;

    public ProtocolError Error { get; }

    [DoesNotReturn]
    internal static void ThrowRequestTooLarge(long limit) =>
        throw new PolicyProtocolException(ProtocolError.RequestTooLarge, $"request larger than {limit} bytes");

    [DoesNotReturn]
    internal static void ThrowNulByte() =>
        throw new PolicyProtocolException(ProtocolError.NulByte, "NUL byte in request");
}
