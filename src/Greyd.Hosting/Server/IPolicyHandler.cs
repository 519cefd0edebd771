using System.Buffers;
using Greyd.Protocol;

namespace Greyd.Hosting.Server;

/// <summary>What a connection asks to answer each request: greyd's <see cref="PolicyService"/>, or the benchmark floor.</summary>
public interface IPolicyHandler
{
    /// <summary>
    /// Writes the reply for <paramref name="request"/> to <paramref name="output"/>. Returns false when the
    /// connection must be closed without a reply (a request that is not a policy request).
    /// </summary>
    ValueTask<bool> HandleAsync(PolicyRequest request, PolicyScratch scratch, IBufferWriter<byte> output);
}
