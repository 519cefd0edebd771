using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Policy.Whitelists;
using Greyd.Protocol;
using Greyd.Storage;

namespace Greyd.Hosting.Tests;

/// <summary>
/// Property tests (CsCheck) of the engine as Postfix sees it, through <see cref="PolicyService"/> and the in-memory
/// store: the delay is never cut short, every reply is a valid action, and how the bytes are cut never matters.
/// A failure prints the shrunk input and the seed to replay it with.
/// </summary>
public class EnginePropertyTests
{
    private const long T0 = 1_700_000_000;

    private sealed class TestClock : TimeProvider
    {
        public long Now { get; set; } = T0;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.FromUnixTimeSeconds(Now);
    }

    private static readonly (string Address, string Sender, string Recipient)[] s_triplets =
    [
        ("192.0.2.10", "alice@example.net", "bob@example.org"),
        ("198.51.100.20", "carol@example.com", "dave@example.org"),
        ("203.0.113.30", "", "erin@example.org"),
        ("2001:db8:1::40", "frank@example.net", "bob@example.org"),
    ];

    private static readonly Regex s_validReply = new(@"\Aaction=(DUNNO|PREPEND [^\r\n]+|DEFER_IF_PERMIT [^\r\n]+|[A-Z0-9_]+ [^\r\n]+)\n\n\z", RegexOptions.CultureInvariant);

    private static PolicyService Service(GreylistOptions options, TimeProvider clock) =>
        new(options, new InMemoryGreylistStore(options), new WhitelistHolder(WhitelistSet.Empty), new GreydLog(Stream.Null, LogPriority.Error), clock);

    private static PolicyRequest Request(int triplet, string instance)
    {
        var (address, sender, recipient) = s_triplets[triplet];
        var request = new PolicyRequest();
        request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
        request.Set(PolicyAttribute.ClientName, "unknown"u8);
        request.Set(PolicyAttribute.ClientAddress, Encoding.ASCII.GetBytes(address));
        request.Set(PolicyAttribute.Sender, Encoding.ASCII.GetBytes(sender));
        request.Set(PolicyAttribute.Recipient, Encoding.ASCII.GetBytes(recipient));
        request.Set(PolicyAttribute.Instance, Encoding.ASCII.GetBytes(instance));
        return request;
    }

    private static string Ask(PolicyService service, PolicyRequest request, PolicyScratch scratch)
    {
        var output = new ArrayBufferWriter<byte>();
        bool answered = service.HandleAsync(request, scratch, output).AsTask().GetAwaiter().GetResult();
        Assert.True(answered);
        return Encoding.Latin1.GetString(output.WrittenSpan);
    }

    // Time steps: mostly around the delay, sometimes days forward (expiry), sometimes backwards (a clock step).
    private static readonly Gen<int> s_step = Gen.Frequency(
        (6, Gen.Int[0, 900]),
        (2, Gen.Int[-900, -1]),
        (1, Gen.Int[100_000, 4_000_000]),
        (1, Gen.Int[-4_000_000, -100_000]));

    private static readonly Gen<(int Delay, int RetryWindow, int MaxAgeDays, (int Triplet, int Step)[] Steps)> s_history =
        Gen.Select(Gen.Int[1, 900], Gen.Int[600, 172_800], Gen.Int[1, 35], Gen.Select(Gen.Int[0, s_triplets.Length - 1], s_step).Array[1, 60]);

    [Fact]
    public void A_triplet_never_passes_before_the_delay_since_its_first_sighting()
    {
        s_history.Sample((delay, retryWindow, maxAgeDays, steps) =>
        {
            var options = new GreylistOptions { Delay = delay, RetryWindow = retryWindow, MaxAgeDays = maxAgeDays, AutoWhitelistClients = 0 };
            var clock = new TestClock();
            var service = Service(options, clock);
            var scratch = new PolicyScratch();
            // The model: per triplet, its first sighting in the current life of its entry, its last sighting, and
            // whether it has passed. greyd's documented deviations: an entry unseen for max-age (or, never passed,
            // for the retry window) starts again; a first retry after the retry window starts again; after a clock
            // step back a passed triplet stays passed and an unpassed one counts from its earliest sighting.
            var model = new (long First, long Last, bool Passed)?[s_triplets.Length];
            int n = 0;
            foreach (var (triplet, step) in steps)
            {
                clock.Now += step;
                long now = clock.Now;
                var entry = model[triplet];
                bool fresh = false;
                if (entry is not { } e || now - e.Last > options.MaxAge || (!e.Passed && now - e.Last > retryWindow))
                {
                    entry = (now, now, false);
                    fresh = true;
                }
                else if (!e.Passed && now - e.First > retryWindow)
                {
                    entry = (now, e.Last, false);
                }
                else if (now < e.First)
                {
                    entry = (now, e.Last, e.Passed);
                }

                string reply = Ask(service, Request(triplet, $"i{n++}"), scratch);
                bool pass = reply == "action=DUNNO\n\n" || reply.StartsWith("action=PREPEND ", StringComparison.Ordinal);
                Assert.True(pass || reply.StartsWith("action=DEFER_IF_PERMIT ", StringComparison.Ordinal), reply);
                var m = entry.Value;
                if (pass)
                {
                    Assert.False(fresh, $"triplet {triplet} passed at its first sighting (t={now - T0})");
                    Assert.True(m.Passed || now - m.First >= delay, $"triplet {triplet} passed {now - m.First} s after its first sighting, delay {delay}");
                }

                model[triplet] = (m.First, now, m.Passed || pass);
            }
        }, iter: 2000);
    }

    [Fact]
    public void On_a_monotonic_clock_a_triplet_passes_exactly_once_the_delay_has_elapsed()
    {
        // The converse on a clock that only moves forward within the retry window: no greylisting past the delay.
        Gen.Select(Gen.Int[1, 900], Gen.Select(Gen.Int[0, s_triplets.Length - 1], Gen.Int[0, 600]).Array[1, 60]).Sample((delay, steps) =>
        {
            var options = new GreylistOptions { Delay = delay, AutoWhitelistClients = 0 };
            var clock = new TestClock();
            var service = Service(options, clock);
            var scratch = new PolicyScratch();
            var first = new long?[s_triplets.Length];
            int n = 0;
            foreach (var (triplet, step) in steps)
            {
                clock.Now += step;
                first[triplet] ??= clock.Now;
                string reply = Ask(service, Request(triplet, $"i{n++}"), scratch);
                bool pass = !reply.StartsWith("action=DEFER_IF_PERMIT ", StringComparison.Ordinal);
                Assert.Equal(clock.Now - first[triplet] >= delay, pass);
            }
        }, iter: 1000);
    }

    private static readonly Gen<string> s_value = Gen.Frequency(
        (4, Gen.String[Gen.Char.AlphaNumeric, 0, 30]),
        (2, Gen.String[Gen.Char, 0, 40]),
        (1, Gen.Const("")),
        (1, Gen.Int[0, 600].Select(n => new string('x', n) + "@" + new string('y', n))));

    private static readonly Gen<string> s_address = Gen.OneOf(
        Gen.Const("192.0.2.10"), Gen.Const("::1"), Gen.Const("2001:db8::5"), Gen.Const("::ffff:198.51.100.9"),
        Gen.Const("not-an-ip"), Gen.Const(""), Gen.Int[0, 255].Select(i => $"10.{i}.0.1"), s_value);

    private static readonly Gen<string> s_text = Gen.OneOf(
        Gen.Const(GreylistOptions.DefaultGreylistText), Gen.Const("Greylisted for %s seconds, see http://example.org/%r"),
        Gen.String[Gen.Char['!', '~'], 1, 40].Select(s => "x" + s));

    [Fact]
    public void Every_reply_is_one_valid_action_line_and_an_empty_line()
    {
        var gen = Gen.Select(
            Gen.Select(Gen.Int[0, 600], Gen.Bool, Gen.Bool, s_text, Gen.OneOf(Gen.Const("DEFER_IF_PERMIT"), Gen.Const("451"), Gen.Const("DEFER"))),
            Gen.Select(s_address, s_value, s_value, s_value, Gen.Int[-1000, 1000], Gen.Bool).Array[1, 20]);
        gen.Sample((config, requests) =>
        {
            var (delay, awl, etrn, text, action) = config;
            var options = new GreylistOptions
            {
                Delay = delay, AutoWhitelistClients = awl ? 1 : 0, GreylistText = text, GreylistAction = action, Hostname = "prop.test",
            };
            var clock = new TestClock();
            var service = Service(options, clock);
            var scratch = new PolicyScratch();
            var replyForm = new Regex($@"\Aaction=(DUNNO|PREPEND [^\r\n]+|{Regex.Escape(action)} [^\r\n]+)\n\n\z", RegexOptions.CultureInvariant);
            foreach (var (address, name, sender, recipient, step, sameAgain) in requests)
            {
                clock.Now += step;
                var request = new PolicyRequest();
                request.Set(PolicyAttribute.Request, "smtpd_access_policy"u8);
                request.Set(PolicyAttribute.ClientAddress, Encoding.UTF8.GetBytes(address));
                request.Set(PolicyAttribute.ClientName, Encoding.UTF8.GetBytes(name));
                request.Set(PolicyAttribute.Sender, Encoding.UTF8.GetBytes(sender));
                request.Set(PolicyAttribute.Recipient, Encoding.UTF8.GetBytes(recipient));
                if (etrn)
                {
                    request.Set(PolicyAttribute.EtrnDomain, ""u8);
                }

                for (int i = 0; i < (sameAgain ? 2 : 1); i++)
                {
                    string reply = Ask(service, request, scratch);
                    Assert.Matches(replyForm, reply);
                    Assert.Matches(s_validReply, reply);
                }
            }
        }, iter: 1000);
    }

    // One segment of a hand-cut buffer.
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(List<ReadOnlyMemory<byte>> pieces)
        {
            if (pieces.Count == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new Segment(pieces[0], 0);
            var last = first;
            foreach (var piece in pieces.Skip(1))
            {
                var next = new Segment(piece, last.RunningIndex + last.Memory.Length);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }

    private static byte[] Serialize((int Triplet, bool Crlf, bool Garbage, string Extra)[] requests)
    {
        var sb = new StringBuilder();
        int n = 0;
        foreach (var (triplet, crlf, garbage, extra) in requests)
        {
            string nl = crlf ? "\r\n" : "\n";
            var (address, sender, recipient) = s_triplets[triplet];
            sb.Append("request=smtpd_access_policy").Append(nl).Append("protocol_state=RCPT").Append(nl);
            if (garbage)
            {
                sb.Append("no equals sign here").Append(nl);
            }

            sb.Append("client_name=unknown").Append(nl).Append("client_address=").Append(address).Append(nl)
                .Append("sender=").Append(sender).Append(nl).Append("recipient=").Append(recipient).Append(nl)
                .Append("x_extra=").Append(extra).Append(nl).Append("instance=i").Append(n++).Append(nl).Append(nl);
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Feeds the stream as it arrives, in the given pieces, and answers each complete request.</summary>
    private static List<string> Replies(byte[] stream, int[] cuts, int step)
    {
        var options = new GreylistOptions { Delay = 120, AutoWhitelistClients = 2 };
        var clock = new TestClock();
        var service = Service(options, clock);
        var scratch = new PolicyScratch();
        var request = new PolicyRequest();
        var replies = new List<string>();
        var pending = new List<ReadOnlyMemory<byte>>();
        int previous = 0;
        foreach (int cut in cuts.Append(stream.Length))
        {
            pending.Add(stream.AsMemory(previous, cut - previous));
            previous = cut;
            var sequence = Segment.Of(pending);
            var reader = new SequenceReader<byte>(sequence);
            while (PolicyRequestReader.TryRead(ref reader, request))
            {
                clock.Now += step;
                replies.Add(Ask(service, request, scratch));
            }

            // Keep only what is not consumed, as the server's pipe does.
            var rest = sequence.Slice(reader.Position);
            pending = [];
            foreach (var memory in rest)
            {
                pending.Add(memory);
            }
        }

        Assert.DoesNotContain(pending, m => !m.IsEmpty);
        return replies;
    }

    [Fact]
    public void The_same_request_stream_gets_the_same_replies_however_its_bytes_are_split()
    {
        var gen = Gen.Select(
            Gen.Select(Gen.Int[0, s_triplets.Length - 1], Gen.Bool, Gen.Bool, Gen.String[Gen.Char.AlphaNumeric, 0, 700]).Array[1, 12],
            Gen.Int[0, 200],
            Gen.Int[0, 100].Array[0, 40]);
        gen.Sample((requests, step, rawCuts) =>
        {
            byte[] stream = Serialize(requests);
            int[] cuts = [.. rawCuts.Select(c => (int)((long)c * stream.Length / 100)).Order()];
            var whole = Replies(stream, [], step);
            Assert.Equal(requests.Length, whole.Count);
            Assert.Equal(whole, Replies(stream, cuts, step));
            if (stream.Length < 2000)
            {
                Assert.Equal(whole, Replies(stream, [.. Enumerable.Range(1, stream.Length - 1)], step));
            }
        }, iter: 300);
    }
}
