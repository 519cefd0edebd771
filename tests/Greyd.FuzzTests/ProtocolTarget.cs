using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.FuzzTests;

/// <summary>
/// Fuzz target for <see cref="PolicyRequestReader"/> and, behind it, <see cref="PolicyService"/>. Invariants:
/// only <see cref="PolicyProtocolException"/> escapes the reader; an incomplete request consumes nothing; every
/// read makes progress and stays within the request limit; the same bytes give the same requests and the same end
/// state however they are cut into segments and however they arrive (whole, or a few bytes at a time); every
/// request gets exactly one well-formed reply (or a close for a non-policy request) and never an internal error.
/// </summary>
public sealed class ProtocolTarget
{
    private static readonly Regex s_reply = new(@"\Aaction=(DUNNO|PREPEND [^\r\n]+|DEFER_IF_PERMIT [^\r\n]+)\n\n\z", RegexOptions.CultureInvariant);

    private readonly PolicyRequest _request = new();
    private readonly PolicyScratch _scratch = new();
    private readonly MemoryStream _log = new();
    private readonly FixedClock _clock = new();
    private readonly ArrayBufferWriter<byte> _output = new();
    private PolicyService _service = null!;
    private int _uses;

    private sealed class FixedClock : TimeProvider
    {
        public long Now { get; set; } = 1_700_000_000;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }

    public string Run(byte[] input, Random random)
    {
        if (_uses++ % 1000 == 0)
        {
            // A fresh store now and then, so memory stays flat over millions of inputs.
            var options = new GreylistOptions { Delay = 60, AutoWhitelistClients = 2, AllowPolicyTestTime = true, Hostname = "fuzz.test" };
            _service = new PolicyService(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty), new GreydLog(_log, LogPriority.Debug), _clock);
        }

        _clock.Now = 1_700_000_000 + random.Next(-100_000, 100_000);
        var (whole, wholeEnd) = Parse(new ReadOnlySequence<byte>(input), answer: true);
        var (split, splitEnd) = Parse(FuzzSegment.Split(input, random), answer: false);
        Same("one segment vs random segments", whole, wholeEnd, split, splitEnd);
        var (trickled, trickledEnd) = Trickle(input, random);
        Same("all at once vs arriving in pieces", whole, wholeEnd, trickled, trickledEnd);
        return $"{Math.Min(whole.Count, 4)}|{wholeEnd.Split('@')[0]}";
    }

    private static void Same(string what, List<string> a, string aEnd, List<string> b, string bEnd)
    {
        if (aEnd != bEnd || a.Count != b.Count || !a.SequenceEqual(b, StringComparer.Ordinal))
        {
            int i = 0;
            while (i < Math.Min(a.Count, b.Count) && a[i] == b[i])
            {
                i++;
            }

            throw new FuzzInvariantException($"{what}: {a.Count} requests ending {aEnd} vs {b.Count} ending {bEnd}; first difference at request {i}"
                + (i < Math.Min(a.Count, b.Count) ? $"\n{a[i]}\n---\n{b[i]}" : string.Empty));
        }
    }

    private (List<string> Requests, string End) Parse(ReadOnlySequence<byte> sequence, bool answer)
    {
        var results = new List<string>();
        var reader = new SequenceReader<byte>(sequence);
        while (true)
        {
            long before = reader.Consumed;
            bool complete;
            try
            {
                complete = PolicyRequestReader.TryRead(ref reader, _request);
            }
            catch (PolicyProtocolException e)
            {
                return (results, $"{e.Error}@{before}");
            }

            if (!complete)
            {
                if (reader.Consumed != before)
                {
                    throw new FuzzInvariantException($"an incomplete request consumed {reader.Consumed - before} bytes");
                }

                return (results, $"incomplete@{before}");
            }

            Check(reader.Consumed - before);
            results.Add(Snapshot(_request, reader.Consumed));
            if (answer)
            {
                Answer();
            }
        }
    }

    // The bytes arrive a piece at a time; after each complete request the buffer is sliced, as the server does.
    private (List<string> Requests, string End) Trickle(byte[] input, Random random)
    {
        var results = new List<string>();
        int position = 0;
        int available = 0;
        int maxPiece = Math.Max(16, input.Length / (1 + random.Next(16)));
        while (true)
        {
            var sequence = FuzzSegment.Split(input.AsMemory(position, available - position), random);
            var reader = new SequenceReader<byte>(sequence);
            bool complete;
            try
            {
                complete = PolicyRequestReader.TryRead(ref reader, _request);
            }
            catch (PolicyProtocolException e)
            {
                return (results, $"{e.Error}@{position}");
            }

            if (complete)
            {
                Check(reader.Consumed);
                position += (int)reader.Consumed;
                results.Add(Snapshot(_request, position));
                continue;
            }

            if (reader.Consumed != 0)
            {
                throw new FuzzInvariantException($"an incomplete request consumed {reader.Consumed} bytes");
            }

            if (available == input.Length)
            {
                return (results, $"incomplete@{position}");
            }

            available = Math.Min(input.Length, available + random.Next(1, maxPiece + 1));
        }
    }

    private void Check(long consumed)
    {
        if (consumed <= 0)
        {
            throw new FuzzInvariantException("a complete request consumed nothing");
        }

        if (consumed > PolicyRequestReader.MaxRequestBytes)
        {
            throw new FuzzInvariantException($"a request of {consumed} bytes was accepted");
        }

        foreach (var attribute in Enum.GetValues<PolicyAttribute>())
        {
            var value = _request.Get(attribute);
            if (value.Length > PolicyRequest.MaxValueLength || value.Contains((byte)'\n') || value.Contains((byte)0))
            {
                throw new FuzzInvariantException($"{attribute} has a value no request can carry");
            }
        }
    }

    private void Answer()
    {
        _log.SetLength(0);
        _output.ResetWrittenCount();
        var pending = _service.HandleAsync(_request, _scratch, _output);
        if (!pending.IsCompleted)
        {
            throw new FuzzInvariantException("the in-memory store answered asynchronously");
        }

        bool answered = pending.Result;
        string reply = Encoding.Latin1.GetString(_output.WrittenSpan);
        bool isPolicy = _request.Get(PolicyAttribute.Request).SequenceEqual("smtpd_access_policy"u8);
        if (answered != isPolicy)
        {
            throw new FuzzInvariantException($"HandleAsync returned {answered} for request type '{Encoding.Latin1.GetString(_request.Get(PolicyAttribute.Request))}'");
        }

        if (answered ? !s_reply.IsMatch(reply) : reply.Length != 0)
        {
            throw new FuzzInvariantException($"malformed reply: {reply.ReplaceLineEndings("\\n")}");
        }

        string log = Encoding.UTF8.GetString(_log.GetBuffer(), 0, (int)_log.Length);
        if (log.Contains("internal error", StringComparison.Ordinal))
        {
            throw new FuzzInvariantException("the engine failed and answered DUNNO: " + log);
        }
    }

    internal static string Snapshot(PolicyRequest request, long consumed)
    {
        var sb = new StringBuilder();
        foreach (var attribute in Enum.GetValues<PolicyAttribute>())
        {
            sb.Append(attribute).Append('=')
                .Append(request.Has(attribute) ? Convert.ToHexString(request.Get(attribute)) : "-").Append(';');
        }

        sb.Append("garbage=").Append(request.GarbageLines).Append(' ').Append(Convert.ToHexString(request.FirstGarbage));
        sb.Append(";consumed=").Append(consumed);
        return sb.ToString();
    }
}

/// <summary>A broken invariant found by a fuzz target.</summary>
public sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message)
        : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
