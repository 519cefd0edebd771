using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Greyd.Policy;
using Greyd.Protocol;

namespace Greyd.Benchmarks;

/// <summary>The allocation-free parts of the request path: reading a request and building its triplet key.</summary>
[MemoryDiagnoser]
public class RequestPathBenchmarks
{
    private readonly PolicyRequest _request = new();
    private readonly byte[] _key = new byte[TripletKeyBuilder.MaxKeyLength];
    private readonly GreylistOptions _options = new();
    private ReadOnlySequence<byte> _input;
    private ClientAddress _client;

    [GlobalSetup]
    public void Setup()
    {
        // A request as Postfix 3.7 sends it at RCPT time.
        _input = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=mail.example.net\n" +
            "queue_id=\nsender=prvs=1234567890=alice+news@example.net\nrecipient=bob@example.org\nrecipient_count=0\n" +
            "client_address=192.0.2.10\nclient_name=mail.example.net\nreverse_client_name=mail.example.net\n" +
            "instance=1a2b.5f3c1e.9d8e.0\nsasl_method=\nsasl_username=\nsasl_sender=\nsize=0\nccert_subject=\n" +
            "ccert_issuer=\nccert_fingerprint=\nencryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n" +
            "encryption_keysize=256\netrn_domain=\nstress=\nclient_port=54321\npolicy_context=\nserver_address=192.0.2.1\n" +
            "server_port=25\n\n"));
        if (!ClientAddress.TryParse("192.0.2.10"u8, out _client))
        {
            throw new InvalidOperationException("bad benchmark address");
        }
    }

    [Benchmark]
    public bool ReadRequest()
    {
        var reader = new SequenceReader<byte>(_input);
        return PolicyRequestReader.TryRead(ref reader, _request);
    }

    [Benchmark]
    public int BuildTripletKey()
    {
        var reader = new SequenceReader<byte>(_input);
        PolicyRequestReader.TryRead(ref reader, _request);
        return TripletKeyBuilder.WriteTripletKey(_request, _client, _options, _key);
    }
}
