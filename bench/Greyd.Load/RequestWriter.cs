using System.Buffers.Text;

namespace Greyd.Load;

/// <summary>
/// Writes a Postfix 3.7 RCPT-time policy request (27 attributes) for triplet number <c>id</c>: the same id always
/// gives the same client, sender and recipient, and the run's seed keeps one run's triplets apart from another's.
/// </summary>
internal sealed class RequestWriter
{
    private readonly byte[] _buffer = new byte[2048];
    private readonly long _run;
    private readonly int _connection;
    private int _length;

    /// <summary>The buffer <see cref="Write"/> fills, for sending it asynchronously.</summary>
    public ReadOnlyMemory<byte> Buffer => _buffer;

    public RequestWriter(long run, int connection)
    {
        _run = run & 0xFFFFFFFFFFFFL;
        _connection = connection;
    }

    /// <summary>Builds the request for triplet <paramref name="id"/>, sent as message number <paramref name="message"/>.</summary>
    public ReadOnlySpan<byte> Write(long id, long message)
    {
        // Many triplets share a client, so clients repeat as they do on a real MX.
        long client = id % 50_021;
        _length = 0;
        Add("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=mail"u8);
        Add(client);
        Add(".example.net\nqueue_id=\nsender=user"u8);
        Add(id);
        Add("."u8);
        AddHex(_run);
        Add("@sender"u8);
        Add(id % 997);
        Add(".example.com\nrecipient=rcpt"u8);
        Add(id % 1009);
        Add("@example.org\nrecipient_count=0\nclient_address=10."u8);
        Add((client >> 16) & 255);
        Add("."u8);
        Add((client >> 8) & 255);
        Add("."u8);
        Add(client & 255);
        Add("\nclient_name=mail"u8);
        Add(client);
        Add(".example.net\nreverse_client_name=mail"u8);
        Add(client);
        Add(".example.net\ninstance="u8);
        AddHex(_run);
        Add("."u8);
        Add(_connection);
        Add("."u8);
        Add(message);
        Add("\nsasl_method=\nsasl_username=\nsasl_sender=\nsize=0\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"u8);
        Add("encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"u8);
        Add("etrn_domain=\nstress=\nclient_port=54321\npolicy_context=\nserver_address=192.0.2.1\nserver_port=25\n\n"u8);
        return _buffer.AsSpan(0, _length);
    }

    private void Add(ReadOnlySpan<byte> text)
    {
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
    }

    private void Add(long number)
    {
        Utf8Formatter.TryFormat(number, _buffer.AsSpan(_length), out int written);
        _length += written;
    }

    private void AddHex(long number)
    {
        Utf8Formatter.TryFormat(number, _buffer.AsSpan(_length), out int written, new System.Buffers.StandardFormat('x'));
        _length += written;
    }
}
