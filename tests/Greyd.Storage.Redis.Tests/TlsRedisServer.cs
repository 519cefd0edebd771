using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Greyd.Storage.Redis.Tests;

/// <summary>
/// A redis-server that also listens with TLS on <see cref="TlsPort"/>, with a certificate for 127.0.0.1 from a test CA
/// made here, and a password.
/// </summary>
public sealed class TlsRedisServer : RedisServer
{
    private readonly string _dir = Directory.CreateTempSubdirectory("greyd-tls-").FullName;

    public int TlsPort { get; } = FreePort();

    public string CaFile => Path.Combine(_dir, "ca.pem");

    public const string Secret = "tls-test-password";

    protected override string? Password => Secret;

    protected override IEnumerable<string> Arguments()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=greyd test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        using var server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
        return
        [
            "--requirepass", Secret,
            "--tls-port", TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert-file", Path.Combine(_dir, "server.pem"),
            "--tls-key-file", Path.Combine(_dir, "server.key"),
            "--tls-ca-cert-file", CaFile,
            "--tls-auth-clients", "no",
        ];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
