using System.Buffers;
using System.Text;

namespace Greyd.Protocol.Tests;

public class PolicyRequestReaderTests
{
    // Postfix's request as the spec's default request D, plus attributes greyd ignores.
    private const string DefaultRequest =
        "request=smtpd_access_policy\n" +
        "protocol_state=RCPT\n" +
        "protocol_name=ESMTP\n" +
        "policy_test_time=1700000000\n" +
        "client_name=mail.example.net\n" +
        "client_address=192.0.2.10\n" +
        "sender=alice@example.net\n" +
        "recipient=bob@example.org\n" +
        "instance=1a2b.3c4d.5e6f.0\n" +
        "queue_id=ABCDEF1234\n" +
        "etrn_domain=\n" +
        "size=12345\n" +
        "\n";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>Reads one request from the start of <paramref name="sequence"/>.</summary>
    private static bool ReadOne(ReadOnlySequence<byte> sequence, PolicyRequest request, out long consumed)
    {
        var reader = new SequenceReader<byte>(sequence);
        bool result = PolicyRequestReader.TryRead(ref reader, request);
        consumed = reader.Consumed;
        return result;
    }

    private static PolicyRequest Parse(string text)
    {
        var request = new PolicyRequest();
        Assert.True(ReadOne(new ReadOnlySequence<byte>(Bytes(text)), request, out long consumed));
        Assert.Equal(Encoding.UTF8.GetByteCount(text), consumed);
        return request;
    }

    /// <summary>Everything the reader produced, as text, so two parses can be compared as a whole.</summary>
    private static string Snapshot(PolicyRequest request, long consumed)
    {
        var sb = new StringBuilder();
        foreach (var attribute in Enum.GetValues<PolicyAttribute>())
        {
            sb.Append(attribute).Append('=')
                .Append(request.Has(attribute) ? Convert.ToHexString(request.Get(attribute)) : "<absent>").Append('\n');
        }

        sb.Append("garbage=").Append(request.GarbageLines).Append(' ').Append(Convert.ToHexString(request.FirstGarbage));
        sb.Append("\nconsumed=").Append(consumed);
        return sb.ToString();
    }

    /// <summary>Reads every complete request from <paramref name="sequence"/>, one snapshot per request.</summary>
    private static List<string> ReadAll(ReadOnlySequence<byte> sequence)
    {
        var snapshots = new List<string>();
        var request = new PolicyRequest();
        var reader = new SequenceReader<byte>(sequence);
        while (true)
        {
            long before = reader.Consumed;
            if (!PolicyRequestReader.TryRead(ref reader, request))
            {
                Assert.Equal(before, reader.Consumed);
                snapshots.Add("rest=" + (sequence.Length - before));
                return snapshots;
            }

            snapshots.Add(Snapshot(request, reader.Consumed));
        }
    }

    // Two requests and the start of a third; CRLF and LF lines, a long line, garbage, a bare CR and the '=' quirk.
    private static byte[] RichInput() => Bytes(
        DefaultRequest.Replace("\n", "\r\n", StringComparison.Ordinal) +
        "this is garbage\n" +
        "request=smtpd_access_policy\n" +
        "=recipient=r@b.example\n" +
        "client_name=x\rjunk\n" +
        "sender=" + new string('s', 600) + "@x.example\r\n" +
        "client_address=2001:db8::1\n" +
        "\n" +
        "request=smtpd_acc");

    [Fact]
    public void TryReadReadsTheDefaultRequest()
    {
        var request = Parse(DefaultRequest);

        Assert.Equal("smtpd_access_policy", Text(request.Get(PolicyAttribute.Request)));
        Assert.Equal("1700000000", Text(request.Get(PolicyAttribute.PolicyTestTime)));
        Assert.Equal("mail.example.net", Text(request.Get(PolicyAttribute.ClientName)));
        Assert.Equal("192.0.2.10", Text(request.Get(PolicyAttribute.ClientAddress)));
        Assert.Equal("alice@example.net", Text(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("bob@example.org", Text(request.Get(PolicyAttribute.Recipient)));
        Assert.Equal("1a2b.3c4d.5e6f.0", Text(request.Get(PolicyAttribute.Instance)));
        Assert.Equal("ABCDEF1234", Text(request.Get(PolicyAttribute.QueueId)));
        Assert.True(request.Has(PolicyAttribute.EtrnDomain));
        Assert.Equal(0, request.Get(PolicyAttribute.EtrnDomain).Length);
        Assert.Equal(0, request.GarbageLines);
    }

    [Fact]
    public void TryReadKeepsTheHeloNameForSpfMacros()
    {
        var request = Parse("request=smtpd_access_policy\nhelo_name=mail.example.org\n\n");

        Assert.Equal("mail.example.org"u8.ToArray(), request.Get(PolicyAttribute.HeloName).ToArray());
    }

    [Fact]
    public void TryReadReturnsFalseWhenGivenEmptyInput()
    {
        var request = new PolicyRequest();
        Assert.False(ReadOne(ReadOnlySequence<byte>.Empty, request, out long consumed));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void TryReadReturnsFalseWhenGivenIncompleteRequest()
    {
        foreach (string full in new[] { DefaultRequest, DefaultRequest.Replace("\n", "\r\n", StringComparison.Ordinal) })
        {
            byte[] data = Bytes(full);
            var request = new PolicyRequest();
            for (int length = 0; length < data.Length; length++)
            {
                var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data, 0, length));
                Assert.False(PolicyRequestReader.TryRead(ref reader, request), $"prefix of {length} bytes");
                Assert.Equal(0, reader.Consumed);

                // The same prefix cut into two segments.
                var split = new SequenceReader<byte>(TestSequenceSegment.Split(data[..length], length / 2));
                Assert.False(PolicyRequestReader.TryRead(ref split, request), $"split prefix of {length} bytes");
                Assert.Equal(0, split.Consumed);
            }

            Assert.True(ReadOne(new ReadOnlySequence<byte>(data), request, out long consumed));
            Assert.Equal(data.Length, consumed);
        }
    }

    [Fact]
    public void TryReadLeavesTheReaderWhereItWasWhenTheRequestIsIncompleteAfterEarlierReads()
    {
        byte[] data = Bytes(DefaultRequest + "request=smtpd_access_policy\nsender=x@y\n");
        var request = new PolicyRequest();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        long afterFirst = reader.Consumed;
        Assert.False(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(afterFirst, reader.Consumed);
        Assert.Equal(Bytes(DefaultRequest).Length, afterFirst);
    }

    [Fact]
    public void TryReadParsesEveryTwoSegmentSplitLikeOneSegment()
    {
        byte[] data = RichInput();
        var expected = ReadAll(new ReadOnlySequence<byte>(data));
        Assert.Equal(3, expected.Count);

        for (int cut = 0; cut <= data.Length; cut++)
        {
            Assert.Equal(expected, ReadAll(TestSequenceSegment.Split(data, cut)));
        }
    }

    [Fact]
    public void TryReadParsesThreeSegmentsAtRandomPointsLikeOneSegment()
    {
        byte[] data = RichInput();
        var expected = ReadAll(new ReadOnlySequence<byte>(data));
        var random = new Random(1700000000);
        for (int i = 0; i < 2000; i++)
        {
            int a = random.Next(data.Length + 1);
            int b = random.Next(data.Length + 1);
            var sequence = TestSequenceSegment.Split(data, Math.Min(a, b), Math.Max(a, b));
            Assert.Equal(expected, ReadAll(sequence));
        }
    }

    [Fact]
    public void TryReadParsesOneByteSegmentsLikeOneSegment()
    {
        byte[] data = RichInput();
        Assert.Equal(ReadAll(new ReadOnlySequence<byte>(data)), ReadAll(TestSequenceSegment.Chunked(data, 1)));
    }

    [Fact]
    public void TryReadGivesTheSameRequestForCrlfAndLfLineEnds()
    {
        var lf = new PolicyRequest();
        var crlf = new PolicyRequest();
        byte[] lfBytes = Bytes(DefaultRequest);
        byte[] crlfBytes = Bytes(DefaultRequest.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.True(ReadOne(new ReadOnlySequence<byte>(lfBytes), lf, out long lfConsumed));
        Assert.True(ReadOne(new ReadOnlySequence<byte>(crlfBytes), crlf, out long crlfConsumed));

        Assert.Equal(lfBytes.Length, lfConsumed);
        Assert.Equal(crlfBytes.Length, crlfConsumed);
        Assert.Equal(Snapshot(lf, 0), Snapshot(crlf, 0));
        Assert.Equal("bob@example.org", Text(crlf.Get(PolicyAttribute.Recipient)));
    }

    [Fact]
    public void TryReadAcceptsMixedLineEndsWithinOneRequest()
    {
        var request = Parse("request=smtpd_access_policy\r\nsender=a@b\nrecipient=c@d\r\n\n");
        Assert.Equal("smtpd_access_policy", Text(request.Get(PolicyAttribute.Request)));
        Assert.Equal("a@b", Text(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("c@d", Text(request.Get(PolicyAttribute.Recipient)));
    }

    [Fact]
    public void TryReadReadsPipelinedRequestsOneAfterAnother()
    {
        string r1 = "request=smtpd_access_policy\nrecipient=one@example.org\n\n";
        string r2 = "request=smtpd_access_policy\r\nrecipient=two@example.org\r\n\r\n";
        string r3 = "request=smtpd_access_policy\nrecipient=three@example.org\n\n";
        byte[] data = Bytes(r1 + r2 + r3);
        var request = new PolicyRequest();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(data));

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(r1.Length, reader.Consumed);
        Assert.Equal("one@example.org", Text(request.Get(PolicyAttribute.Recipient)));

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(r1.Length + r2.Length, reader.Consumed);
        Assert.Equal("two@example.org", Text(request.Get(PolicyAttribute.Recipient)));

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(data.Length, reader.Consumed);
        Assert.Equal("three@example.org", Text(request.Get(PolicyAttribute.Recipient)));

        Assert.False(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(data.Length, reader.Consumed);
    }

    [Fact]
    public void TryReadCompletesAPartialSecondRequestWhenTheRestArrives()
    {
        // postgrey's M09 bug: a complete request plus half of another, the rest later, lost the second request.
        string first = "request=smtpd_access_policy\nrecipient=one@example.org\n\n";
        string secondHead = "request=smtpd_access_policy\nsender=s@example.net\nrecip";
        string secondTail = "ient=two@example.org\n\n";
        var request = new PolicyRequest();

        byte[] chunk1 = Bytes(first + secondHead);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(chunk1));
        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.False(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal(first.Length, reader.Consumed);

        // As a pipe would: the unconsumed bytes followed by the new ones.
        var rest = TestSequenceSegment.Create(chunk1[(int)reader.Consumed..], Bytes(secondTail));
        var next = new SequenceReader<byte>(rest);
        Assert.True(PolicyRequestReader.TryRead(ref next, request));
        Assert.Equal(rest.Length, next.Consumed);
        Assert.Equal("smtpd_access_policy", Text(request.Get(PolicyAttribute.Request)));
        Assert.Equal("s@example.net", Text(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("two@example.org", Text(request.Get(PolicyAttribute.Recipient)));
    }

    [Fact]
    public void TryReadResetsTheRequestSoNoAttributeLeaksIntoTheNextRequest()
    {
        // postgrey's M08 bug: etrn_domain of request 1 gave request 2 the 4.2.0 prefix.
        string r1 = "request=smtpd_access_policy\netrn_domain=\ninstance=i1\nqueue_id=Q1\npolicy_test_time=5\n" +
            "client_name=a\nclient_address=192.0.2.1\nsender=s@x\nrecipient=r@y\ngarbage line\n\n";
        string r2 = "request=smtpd_access_policy\nrecipient=r2@y\n\n";
        var request = new PolicyRequest();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(Bytes(r1 + r2)));

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.True(request.Has(PolicyAttribute.EtrnDomain));
        Assert.Equal(1, request.GarbageLines);

        Assert.True(PolicyRequestReader.TryRead(ref reader, request));
        Assert.Equal("r2@y", Text(request.Get(PolicyAttribute.Recipient)));
        foreach (var attribute in new[]
        {
            PolicyAttribute.EtrnDomain, PolicyAttribute.Instance, PolicyAttribute.QueueId, PolicyAttribute.PolicyTestTime,
            PolicyAttribute.ClientName, PolicyAttribute.ClientAddress, PolicyAttribute.Sender,
        })
        {
            Assert.False(request.Has(attribute), attribute.ToString());
            Assert.Equal(0, request.Get(attribute).Length);
        }

        Assert.Equal(0, request.GarbageLines);
        Assert.Equal(0, request.FirstGarbage.Length);
    }

    [Fact]
    public void TryReadCountsGarbageLinesAndKeepsTheFirstOne()
    {
        var request = Parse("this is garbage\nrequest=smtpd_access_policy\nmore garbage\nthird\n\n");

        Assert.Equal(3, request.GarbageLines);
        Assert.Equal("this is garbage", Text(request.FirstGarbage));
        Assert.Equal("smtpd_access_policy", Text(request.Get(PolicyAttribute.Request)));
    }

    [Fact]
    public void TryReadKeepsOnlyTheFirstHundredBytesOfAGarbageLine()
    {
        string line = new string('g', 99) + "XYZ" + new string('h', 50);
        var request = Parse(line + "\r\n\n");

        Assert.Equal(1, request.GarbageLines);
        Assert.Equal(PolicyRequest.MaxGarbageLength, request.FirstGarbage.Length);
        Assert.Equal(line[..100], Text(request.FirstGarbage));
    }

    [Fact]
    public void TryReadTreatsLinesOfOnlyEqualsSignsOrLeadingEqualsWithoutNameAsGarbage()
    {
        var request = Parse("=\n==value\nrequest=smtpd_access_policy\n\n");
        Assert.Equal(2, request.GarbageLines);
        Assert.Equal("=", Text(request.FirstGarbage));
    }

    [Fact]
    public void TryReadSkipsLeadingEqualsSignsBeforeTheName()
    {
        // V41: "=recipient=r@b.example" is read as recipient = r@b.example; the value keeps any later '='.
        var request = Parse("sender=a=b@x.example\n=recipient=r@b.example\n==client_name=n=1\n\n");

        Assert.Equal("r@b.example", Text(request.Get(PolicyAttribute.Recipient)));
        Assert.Equal("a=b@x.example", Text(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("n=1", Text(request.Get(PolicyAttribute.ClientName)));
        Assert.Equal(0, request.GarbageLines);
    }

    [Fact]
    public void TryReadCutsValuesAtFiveHundredTwelveBytes()
    {
        // M05: 510 'r' + "@dd.example" keeps its first 512 bytes, so the recipient domain becomes "d".
        string recipient = new string('r', 510) + "@dd.example";
        var request = Parse("recipient=" + recipient + "\nsender=" + new string('s', 512) + "\n\n");

        Assert.Equal(PolicyRequest.MaxValueLength, request.Get(PolicyAttribute.Recipient).Length);
        Assert.Equal(recipient[..512], Text(request.Get(PolicyAttribute.Recipient)));
        Assert.EndsWith("@d", Text(request.Get(PolicyAttribute.Recipient)), StringComparison.Ordinal);
        Assert.Equal(new string('s', 512), Text(request.Get(PolicyAttribute.Sender)));
    }

    [Fact]
    public void TryReadIgnoresAttributesWithNamesLongerThanFiveHundredTwelveBytes()
    {
        var request = Parse("recipient" + new string('x', 600) + "=v\n" + new string('n', 513) + "sender=w\nsender=ok\n\n");

        Assert.Equal(0, request.GarbageLines);
        Assert.False(request.Has(PolicyAttribute.Recipient));
        Assert.Equal("ok", Text(request.Get(PolicyAttribute.Sender)));
    }

    [Fact]
    public void TryReadKeepsTheLastOfDuplicateAttributes()
    {
        var request = Parse("sender=first-and-longer@example.net\nsender=x@y\nrecipient=a\nrecipient=\n\n");

        Assert.Equal("x@y", Text(request.Get(PolicyAttribute.Sender)));
        Assert.True(request.Has(PolicyAttribute.Recipient));
        Assert.Equal(0, request.Get(PolicyAttribute.Recipient).Length);
    }

    [Fact]
    public void TryReadIgnoresUnknownAttributes()
    {
        var request = Parse("protocol_state=RCPT\nhelo_namex=h\nSender=upper@case\nsender_x=1\nsize=1\nccert_subject=\n\n");

        foreach (var attribute in Enum.GetValues<PolicyAttribute>())
        {
            Assert.False(request.Has(attribute), attribute.ToString());
        }

        Assert.Equal(0, request.GarbageLines);
    }

    [Fact]
    public void TryReadDistinguishesAnEmptyValueFromAnAbsentAttribute()
    {
        var request = Parse("sender=\nclient_address=\n\n");

        Assert.True(request.Has(PolicyAttribute.Sender));
        Assert.True(request.Has(PolicyAttribute.ClientAddress));
        Assert.False(request.Has(PolicyAttribute.Recipient));
        Assert.False(request.Has(PolicyAttribute.ClientName));
    }

    [Fact]
    public void TryReadAcceptsALoneEmptyLineAsAnEmptyRequest()
    {
        var request = new PolicyRequest();
        Assert.True(ReadOne(new ReadOnlySequence<byte>("\n"u8.ToArray()), request, out long consumed));
        Assert.Equal(1, consumed);
        Assert.False(request.Has(PolicyAttribute.Request));

        Assert.True(ReadOne(new ReadOnlySequence<byte>("\r\n"u8.ToArray()), request, out consumed));
        Assert.Equal(2, consumed);
    }

    [Fact]
    public void TryReadKeepsABareCarriageReturnInsideTheValue()
    {
        // M15: postgrey stalls the connection; greyd treats the CR as data and strips only the CR before LF.
        var request = Parse("client_name=x\rjunk\nsender=a\r\r\nrecipient=\rb\r\n\r\n");

        Assert.Equal("x\rjunk", Text(request.Get(PolicyAttribute.ClientName)));
        Assert.Equal("a\r", Text(request.Get(PolicyAttribute.Sender)));
        Assert.Equal("\rb", Text(request.Get(PolicyAttribute.Recipient)));
    }

    [Fact]
    public void TryReadDoesNotEndTheRequestAtALineOfABareCarriageReturnAndText()
    {
        // "\rX" is not an empty line, so the request goes on.
        var request = new PolicyRequest();
        Assert.False(ReadOne(new ReadOnlySequence<byte>(Bytes("sender=a\n\rX\n")), request, out _));
        Assert.True(ReadOne(new ReadOnlySequence<byte>(Bytes("sender=a\n\rX\nrecipient=b\n\n")), request, out _));
        Assert.Equal(1, request.GarbageLines);
        Assert.Equal("b", Text(request.Get(PolicyAttribute.Recipient)));
    }

    [Theory]
    [InlineData("sender=a\0b\n\n")]
    [InlineData("\0\n\n")]
    [InlineData("garbage\0line\n\n")]
    [InlineData("unknown_attr=\0\n\n")]
    [InlineData("sender=ab\0\r\n\r\n")]
    public void TryReadThrowsNulByteForANulInALine(string text)
    {
        byte[] data = Bytes(text);
        var ex = Assert.Throws<PolicyProtocolException>(() => ReadOne(new ReadOnlySequence<byte>(data), new PolicyRequest(), out _));
        Assert.Equal(ProtocolError.NulByte, ex.Error);

        for (int cut = 1; cut < data.Length; cut++)
        {
            var split = Assert.Throws<PolicyProtocolException>(
                () => ReadOne(TestSequenceSegment.Split(data, cut), new PolicyRequest(), out _));
            Assert.Equal(ProtocolError.NulByte, split.Error);
        }
    }

    [Fact]
    public void TryReadThrowsRequestTooLargeForMoreThanSixtyFourKibibytesWithoutAnEmptyLine()
    {
        var sb = new StringBuilder("request=smtpd_access_policy\n");
        while (sb.Length <= PolicyRequestReader.MaxRequestBytes + 100)
        {
            sb.Append("x_attribute=").Append('v', 50).Append('\n');
        }

        byte[] data = Bytes(sb.ToString());
        foreach (var sequence in new[]
        {
            new ReadOnlySequence<byte>(data),
            TestSequenceSegment.Split(data, data.Length / 2),
            TestSequenceSegment.Chunked(data, 4096),
            TestSequenceSegment.Chunked(data, 1000),
        })
        {
            var ex = Assert.Throws<PolicyProtocolException>(() => ReadOne(sequence, new PolicyRequest(), out _));
            Assert.Equal(ProtocolError.RequestTooLarge, ex.Error);
        }
    }

    [Fact]
    public void TryReadThrowsRequestTooLargeForALongLineWithoutLineFeed()
    {
        byte[] data = Bytes("sender=" + new string('a', PolicyRequestReader.MaxRequestBytes + 10));
        foreach (var sequence in new[] { new ReadOnlySequence<byte>(data), TestSequenceSegment.Chunked(data, 4096) })
        {
            var ex = Assert.Throws<PolicyProtocolException>(() => ReadOne(sequence, new PolicyRequest(), out _));
            Assert.Equal(ProtocolError.RequestTooLarge, ex.Error);
        }
    }

    [Fact]
    public void TryReadThrowsRequestTooLargeEvenWhenTheEmptyLineFollows()
    {
        var sb = new StringBuilder();
        while (sb.Length <= PolicyRequestReader.MaxRequestBytes)
        {
            sb.Append("x=").Append('v', 100).Append('\n');
        }

        sb.Append("recipient=r@example.org\n\n");
        byte[] data = Bytes(sb.ToString());
        foreach (var sequence in new[] { new ReadOnlySequence<byte>(data), TestSequenceSegment.Chunked(data, 3000) })
        {
            var ex = Assert.Throws<PolicyProtocolException>(() => ReadOne(sequence, new PolicyRequest(), out _));
            Assert.Equal(ProtocolError.RequestTooLarge, ex.Error);
        }
    }

    [Fact]
    public void TryReadAcceptsARequestOfExactlySixtyFourKibibytesAndRejectsOneByteMore()
    {
        static byte[] RequestOf(int total)
        {
            // "sender=<filler>\n" + "recipient=r@example.org\n" + "\n" adds up to exactly `total` bytes.
            string tail = "recipient=r@example.org\n\n";
            int filler = total - tail.Length - "sender=\n".Length;
            return Encoding.ASCII.GetBytes("sender=" + new string('s', filler) + "\n" + tail);
        }

        byte[] fits = RequestOf(PolicyRequestReader.MaxRequestBytes);
        Assert.Equal(PolicyRequestReader.MaxRequestBytes, fits.Length);
        var request = new PolicyRequest();
        Assert.True(ReadOne(new ReadOnlySequence<byte>(fits), request, out long consumed));
        Assert.Equal(fits.Length, consumed);
        Assert.Equal("r@example.org", Text(request.Get(PolicyAttribute.Recipient)));

        // Incomplete at exactly the limit is still waiting for more, not an error.
        Assert.False(ReadOne(new ReadOnlySequence<byte>(fits, 0, fits.Length - 1), request, out _));

        byte[] tooLarge = RequestOf(PolicyRequestReader.MaxRequestBytes + 1);
        var ex = Assert.Throws<PolicyProtocolException>(() => ReadOne(new ReadOnlySequence<byte>(tooLarge), new PolicyRequest(), out _));
        Assert.Equal(ProtocolError.RequestTooLarge, ex.Error);
    }

    [Fact]
    public void TryReadParsesTenThousandShortAttributesWithinSixtyFourKibibytes()
    {
        var sb = new StringBuilder("request=smtpd_access_policy\n");
        for (int i = 0; i < 10_000; i++)
        {
            sb.Append(i % 2 == 0 ? "a=1\n" : "sender=\n");
        }

        sb.Append("sender=last@example.net\nrecipient=r@example.org\n\n");
        byte[] data = Bytes(sb.ToString());
        Assert.True(data.Length < PolicyRequestReader.MaxRequestBytes);

        foreach (var sequence in new[] { new ReadOnlySequence<byte>(data), TestSequenceSegment.Chunked(data, 4096), TestSequenceSegment.Chunked(data, 7) })
        {
            var request = new PolicyRequest();
            Assert.True(ReadOne(sequence, request, out long consumed));
            Assert.Equal(data.Length, consumed);
            Assert.Equal("last@example.net", Text(request.Get(PolicyAttribute.Sender)));
            Assert.Equal("r@example.org", Text(request.Get(PolicyAttribute.Recipient)));
            Assert.Equal(0, request.GarbageLines);
        }
    }

    [Fact]
    public void TryReadAppliesTheSizeLimitToEachPipelinedRequestSeparately()
    {
        // Three 40 KB requests in one buffer: together over the limit, each one within it.
        var sb = new StringBuilder();
        for (int r = 0; r < 3; r++)
        {
            sb.Append("request=smtpd_access_policy\n");
            for (int i = 0; i < 400; i++)
            {
                sb.Append("x=").Append('v', 97).Append('\n');
            }

            sb.Append("recipient=r").Append(r).Append("@example.org\n\n");
        }

        byte[] data = Bytes(sb.ToString());
        var request = new PolicyRequest();
        var reader = new SequenceReader<byte>(TestSequenceSegment.Chunked(data, 5000));
        for (int r = 0; r < 3; r++)
        {
            Assert.True(PolicyRequestReader.TryRead(ref reader, request));
            Assert.Equal($"r{r}@example.org", Text(request.Get(PolicyAttribute.Recipient)));
        }

        Assert.Equal(data.Length, reader.Consumed);
    }
}
