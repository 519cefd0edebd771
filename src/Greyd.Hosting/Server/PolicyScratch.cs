using System.Buffers;
using Greyd.Hosting.Logging;
using Greyd.Policy;

namespace Greyd.Hosting.Server;

/// <summary>Buffers one connection reuses for every request, so answering allocates nothing.</summary>
public sealed class PolicyScratch
{
    public byte[] TripletKey { get; } = new byte[TripletKeyBuilder.MaxKeyLength];

    public byte[] ClientKey { get; } = new byte[64];

    public byte[] LogLine { get; } = new byte[ActionLogLine.MaxLength];

    public ArrayBufferWriter<byte> Reply { get; } = new(1024);
}
