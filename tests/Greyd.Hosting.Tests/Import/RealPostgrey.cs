using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Greyd.Hosting.Tests.Import;

/// <summary>
/// The real postgrey (Debian's /usr/sbin/postgrey) on a private dbdir and unix socket, with empty whitelists, so that
/// the import tests read databases that postgrey itself wrote. Requests carry policy_test_time, postgrey's own
/// clock override. A missing postgrey fails the test; it never skips.
/// </summary>
internal sealed class RealPostgrey : IDisposable
{
    public const string Executable = "/usr/sbin/postgrey";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Socket _socket;
    private readonly string _socketPath;

    public RealPostgrey(string dir, params string[] options)
    {
        if (!File.Exists(Executable))
        {
            Assert.Fail($"{Executable} is missing: these tests need the real postgrey (apt-get install postgrey).");
        }

        // postgrey drops to its own user: it must reach the directory and write its dbdir.
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ED);
        DbDir = Directory.CreateDirectory(Path.Combine(dir, "db")).FullName;
        File.SetUnixFileMode(DbDir, (UnixFileMode)0x1FF);
        string whitelist = Path.Combine(dir, "empty-whitelist");
        File.WriteAllText(whitelist, "");
        File.SetUnixFileMode(whitelist, (UnixFileMode)0x1A4);
        string socket = Path.Combine(dir, "postgrey.sock");

        var info = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--unix=" + socket, "--dbdir=" + DbDir, "--whitelist-clients=" + whitelist, "--whitelist-recipients=" + whitelist, "--hostname=test.host" }.Concat(options))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start postgrey");
        _process.OutputDataReceived += (_, e) => Log(e.Data);
        _process.ErrorDataReceived += (_, e) => Log(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _socketPath = socket;
        _socket = Connect(socket);
    }

    public string DbDir { get; }

    public string TripletsPath => Path.Combine(DbDir, "postgrey.db");

    public string ClientsPath => Path.Combine(DbDir, "postgrey_clients.db");

    /// <summary>Sends one request at <c>policy_test_time</c> <paramref name="time"/> and returns postgrey's action line.</summary>
    public string Ask(long time, string clientAddress, string sender, string recipient)
    {
        string request = "request=smtpd_access_policy\n" +
            $"policy_test_time={time.ToString(CultureInfo.InvariantCulture)}\nclient_name=mail.example.net\n" +
            $"client_address={clientAddress}\nsender={sender}\nrecipient={recipient}\n\n";
        _socket.Send(Encoding.UTF8.GetBytes(request));
        var reply = new List<byte>();
        var buffer = new byte[4096];
        while (reply.Count < 2 || reply[^1] != '\n' || reply[^2] != '\n')
        {
            int n = _socket.Receive(buffer);
            if (n == 0)
            {
                Assert.Fail($"postgrey closed the connection without a reply.\n{Output()}");
            }

            reply.AddRange(buffer.AsSpan(0, n));
        }

        return Encoding.UTF8.GetString(reply.ToArray()).TrimEnd('\n');
    }

    /// <summary>Stops postgrey with SIGTERM, as an operator would before copying its files, and waits for it.</summary>
    public void Stop()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            using var kill = Process.Start("/bin/kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }

        // postgrey may sleep through SIGTERM until its next I/O (Net::Server::Multiplex): a connection wakes it.
        for (int i = 0; i < 150 && !_process.WaitForExit(100); i++)
        {
            using var wake = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                wake.Connect(new UnixDomainSocketEndPoint(_socketPath));
            }
            catch (SocketException)
            {
            }
        }

        if (!_process.WaitForExit(1_000))
        {
            _process.Kill();
            Assert.Fail($"postgrey (pid {_process.Id}) did not stop within 15 s of SIGTERM; killed it.\n{Output()}");
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5_000);
        }

        _process.Dispose();
    }

    private Socket Connect(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"postgrey exited at start.\n{Output()}");
            }

            if (File.Exists(path))
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    socket.Connect(new UnixDomainSocketEndPoint(path));
                    socket.ReceiveTimeout = 20_000;
                    return socket;
                }
                catch (SocketException)
                {
                    socket.Dispose(); // bound but not yet listening
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"postgrey did not open {path} within 30 s.\n{Output()}");
            }

            Thread.Sleep(50);
        }
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Append(line).Append('\n');
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return "postgrey's output:\n" + _output;
        }
    }
}
