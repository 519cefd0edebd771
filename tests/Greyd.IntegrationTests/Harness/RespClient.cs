using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A minimal blocking RESP2 client over a raw socket, for looking at what greyd stored: replies come back as
/// <c>string</c> (simple and bulk strings), <c>long</c>, <c>null</c>, or <c>List&lt;object?&gt;</c>; an error reply
/// throws <see cref="InvalidOperationException"/> with the server's text.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly BufferedStream _reader;

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/>; over TLS when <paramref name="trustedCa"/> is given, trusting only it.</summary>
    public RespClient(int port, string? password = null, TimeSpan? timeout = null, X509Certificate2? trustedCa = null)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        int ms = (int)(timeout ?? TimeSpan.FromSeconds(5)).TotalMilliseconds;
        _socket.ReceiveTimeout = ms; // a paused or hung server fails the assertion instead of hanging the test
        _socket.SendTimeout = ms;
        try
        {
            _socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        var network = new NetworkStream(_socket, ownsSocket: true);
        if (trustedCa is null)
        {
            _stream = network;
        }
        else
        {
            var tls = new SslStream(network, leaveInnerStreamOpen: false, (_, certificate, _, errors) => TrustedBy(trustedCa, certificate, errors));
            try
            {
                tls.AuthenticateAsClient("127.0.0.1");
            }
            catch
            {
                tls.Dispose();
                throw;
            }

            _stream = tls;
        }

        _reader = new BufferedStream(_stream, 16384);
        if (password is not null)
        {
            Command("AUTH", password);
        }
    }

    /// <summary>Sends one command and returns its decoded reply.</summary>
    public object? Command(params string[] args)
    {
        var request = new StringBuilder();
        request.Append('*').Append(args.Length).Append("\r\n");
        foreach (string arg in args)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        _stream.Write(Encoding.UTF8.GetBytes(request.ToString()));
        return ReadReply();
    }

    public string? Ping() => Command("PING") as string;

    /// <summary>HGETALL as a dictionary (empty when the key does not exist).</summary>
    public Dictionary<string, string> HGetAll(string key)
    {
        var fields = (List<object?>)Command("HGETALL", key)!;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < fields.Count; i += 2)
        {
            result[(string)fields[i]!] = (string)fields[i + 1]!;
        }

        return result;
    }

    /// <summary>TTL in seconds: -1 when the key has none, -2 when it does not exist.</summary>
    public long Ttl(string key) => (long)Command("TTL", key)!;

    public List<string> Keys(string pattern = "*") =>
        ((List<object?>)Command("KEYS", pattern)!).Select(k => (string)k!).OrderBy(k => k, StringComparer.Ordinal).ToList();

    public void FlushAll() => Command("FLUSHALL");

    // Only a chain to the test's own CA counts; the name must match too.
    private static bool TrustedBy(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    private object? ReadReply()
    {
        string line = ReadLine();
        if (line.Length == 0)
        {
            throw new InvalidOperationException("empty RESP reply line");
        }

        string rest = line[1..];
        switch (line[0])
        {
            case '+':
                return rest;
            case '-':
                throw new InvalidOperationException("RESP error reply: " + rest);
            case ':':
                return long.Parse(rest, CultureInfo.InvariantCulture);
            case '$':
            {
                int length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return null;
                }

                var bytes = new byte[length + 2];
                _reader.ReadExactly(bytes);
                return Encoding.UTF8.GetString(bytes, 0, length);
            }

            case '*':
            {
                int count = int.Parse(rest, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return null;
                }

                var items = new List<object?>(count);
                for (int i = 0; i < count; i++)
                {
                    items.Add(ReadReply());
                }

                return items;
            }

            default:
                throw new InvalidOperationException("unexpected RESP reply: " + GreydProcess.Visible(line));
        }
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = _reader.ReadByte();
            if (b < 0)
            {
                throw new IOException("the RESP server closed the connection");
            }

            if (b == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
            {
                bytes.RemoveAt(bytes.Count - 1);
                return Encoding.UTF8.GetString(bytes.ToArray());
            }

            bytes.Add((byte)b);
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _stream.Dispose();
    }
}
