using System.Buffers;
using Greyd.Hosting.Server;
using Greyd.Protocol;

namespace Greyd.Floor;

/// <summary>Answers every request DUNNO with no policy, store or log: what the socket protocol alone costs.</summary>
internal sealed class DunnoHandler : IPolicyHandler
{
    public ValueTask<bool> HandleAsync(PolicyRequest request, PolicyScratch scratch, IBufferWriter<byte> output)
    {
        PolicyResponse.Write(output, "DUNNO"u8);
        return ValueTask.FromResult(true);
    }
}
