using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A throw-away CA and a server certificate it signed for 127.0.0.1, as PEM files in a temp dir, for a TLS Redis.
/// Made in-process, so the tests need no openssl and never touch the system's trust store.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly TempDir _dir = new("greyd-tls-");

    public TestCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=greyd test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(29), serial);

        CaFile = _dir.File("ca.pem");
        CertificateFile = _dir.File("server.pem");
        KeyFile = _dir.File("server.key");
        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        File.WriteAllText(CertificateFile, server.ExportCertificatePem());
        File.WriteAllText(KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
        Ca = X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    /// <summary>The CA's certificate (public part), for a client that trusts only it.</summary>
    public X509Certificate2 Ca { get; }

    public string CaFile { get; }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public void Dispose()
    {
        Ca.Dispose();
        _dir.Dispose();
    }
}
