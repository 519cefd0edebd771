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

    /// <summary>
    /// Log lines of requests answered but not yet written, or null when each line is written at once. A connection
    /// writes them after its replies are sent, so the log write is not on the path of the answer.
    /// </summary>
    public ArrayBufferWriter<byte>? PendingLog { get; }

    public PolicyScratch(bool deferLog = false)
    {
        PendingLog = deferLog ? new ArrayBufferWriter<byte>(4096) : null;
    }
}
