using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// A private Postfix instance (Debian package postfix) in a temp dir, started by hand as stack-feasibility.md §7
/// describes: its own config, meta, queue and data directories; smtpd on 127.0.0.1 at an unusual port instead of 25;
/// no chroot; local and remote mail discarded; a maillog file. <c>/etc/postfix</c> is only read (copied from), never
/// changed. <see cref="Dispose"/> stops it and makes sure its master process (by pid) is gone.
/// </summary>
public sealed class PrivatePostfix : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private bool _stopped;

    private PrivatePostfix(string root, int smtpPort)
    {
        Root = root;
        SmtpPort = smtpPort;
        ConfigDir = System.IO.Path.Combine(root, "etc");
        QueueDir = System.IO.Path.Combine(root, "spool");
        DataDir = System.IO.Path.Combine(root, "data");
        MailLog = System.IO.Path.Combine(root, "maillog");
    }

    public string Root { get; }

    public int SmtpPort { get; }

    public string ConfigDir { get; }

    public string QueueDir { get; }

    public string DataDir { get; }

    public string MailLog { get; }

    /// <summary>The master's pid once started (from the queue directory's pid/master.pid).</summary>
    public int MasterPid { get; private set; }

    /// <summary>
    /// Creates and starts an instance under <paramref name="dir"/>/postfix whose recipient restrictions end in
    /// <c>check_policy_service { <paramref name="policyService"/>, timeout=10s, default_action=DUNNO }</c>.
    /// <paramref name="dir"/> is made world-searchable so the postfix user reaches the queue and greyd's socket.
    /// </summary>
    public static PrivatePostfix Start(TempDir dir, string policyService)
    {
        ExternalTool.Require(ExternalTool.Postfix, "postfix");
        ExternalTool.Require(ExternalTool.Postconf, "postfix");
        ExternalTool.Require("/etc/postfix/master.cf", "postfix");
        ExternalTool.Require("/etc/postfix/postfix-files", "postfix");
        var postfixUser = ExternalTool.Account("postfix", "postfix");

        File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("755", 8));
        var instance = new PrivatePostfix(dir.Dir("postfix"), FreePort.Pick());
        try
        {
            instance.Create(policyService, postfixUser.Uid);
            instance.StartMaster();
            return instance;
        }
        catch
        {
            instance.Dispose();
            throw;
        }
    }

    /// <summary>The maillog's text so far ("" before it exists).</summary>
    public string MailLogText()
    {
        try
        {
            using var stream = new FileStream(MailLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
        catch (DirectoryNotFoundException)
        {
            return "";
        }
    }

    /// <summary>Waits until the maillog has a line matching <paramref name="pattern"/>; fails with the maillog if not.</summary>
    public string WaitForMailLog(Regex pattern, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string text = MailLogText();
            var line = text.Split('\n').FirstOrDefault(pattern.IsMatch);
            if (line is not null)
            {
                return line;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"The Postfix maillog shows no {what} (/{pattern}/) within {timeout.TotalSeconds:0.#} s.\n{DescribeMailLog()}");
            }

            Thread.Sleep(50);
        }
    }

    public string DescribeMailLog()
    {
        var lines = MailLogText().Split('\n');
        return $"maillog {MailLog} (last lines):\n" + string.Join("\n", lines.Skip(Math.Max(0, lines.Length - 40)).Select(l => "  | " + l));
    }

    private void Create(string policyService, int postfixUid)
    {
        Directory.CreateDirectory(ConfigDir);
        Directory.CreateDirectory(QueueDir);
        Directory.CreateDirectory(DataDir);

        // The meta files too, with meta_directory pointing here: set-permissions then works on this copy, not /etc/postfix.
        foreach (string name in new[] { "dynamicmaps.cf", "postfix-files", "main.cf.proto", "master.cf.proto", "makedefs.out" })
        {
            string source = System.IO.Path.Combine("/etc/postfix", name);
            if (File.Exists(source))
            {
                File.Copy(source, System.IO.Path.Combine(ConfigDir, name));
            }
        }

        Directory.CreateDirectory(System.IO.Path.Combine(ConfigDir, "dynamicmaps.cf.d"));
        Directory.CreateDirectory(System.IO.Path.Combine(ConfigDir, "postfix-files.d"));

        File.WriteAllText(System.IO.Path.Combine(ConfigDir, "master.cf"), RewriteMasterCf(File.ReadAllText("/etc/postfix/master.cf"), SmtpPort));

        // Logs the header greyd asked Postfix to prepend, so the test sees it reach the message.
        File.WriteAllText(System.IO.Path.Combine(ConfigDir, "header_checks"), "/^X-Greylist: (.*)/ WARN x-greylist-seen $1\n");

        string main = string.Join("\n",
            "compatibility_level = 3.6",
            "myhostname = greyd-e2e.test",
            $"meta_directory = {ConfigDir}",
            $"queue_directory = {QueueDir}",
            $"data_directory = {DataDir}",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mydestination = $myhostname, localhost, example.com",
            "mynetworks = 127.0.0.0/8",
            "local_recipient_maps =",
            "alias_maps =",
            "alias_database =",
            "local_transport = discard:local",
            "default_transport = discard:remote",
            "relay_transport = discard:relay",
            $"maillog_file = {MailLog}",
            $"maillog_file_prefixes = {Root}",
            "smtpd_peername_lookup = no",
            "smtpd_banner = $myhostname ESMTP greyd-e2e",
            $"header_checks = regexp:{System.IO.Path.Combine(ConfigDir, "header_checks")}",
            $"smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service {{ {policyService}, timeout=10s, default_action=DUNNO }}",
            "");
        File.WriteAllText(System.IO.Path.Combine(ConfigDir, "main.cf"), main);

        // Debian's master.cf chroots smtpd and friends into the queue directory; a private instance must not.
        ExternalTool.RunChecked(ExternalTool.Postconf, ["-c", ConfigDir, "-F", "*/*/chroot = n"], CommandTimeout, "postconf -F '*/*/chroot = n'");
        Native.Chown(DataDir, postfixUid, -1);
        ExternalTool.RunChecked(ExternalTool.Postfix, ["-c", ConfigDir, "set-permissions"], TimeSpan.FromSeconds(30), "postfix set-permissions");
    }

    /// <summary>Moves Debian's <c>smtp inet</c> service to 127.0.0.1:PORT and checks no other inet service is left.</summary>
    private static string RewriteMasterCf(string text, int port)
    {
        var smtpInet = new Regex(@"^smtp(\s+)inet(\s)", RegexOptions.Multiline);
        if (smtpInet.Count(text) != 1)
        {
            Assert.Fail("/etc/postfix/master.cf does not have exactly one 'smtp inet' service line; cannot move it off port 25.");
        }

        string rewritten = smtpInet.Replace(text, m => $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}{m.Groups[1].Value}inet{m.Groups[2].Value}");
        foreach (string line in rewritten.Split('\n'))
        {
            string[] fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && !line.StartsWith('#') && !char.IsWhiteSpace(line[0]) && fields[1] == "inet" &&
                fields[0] != $"127.0.0.1:{port}")
            {
                Assert.Fail($"master.cf still has the inet service '{fields[0]}' after the rewrite; refusing to start a Postfix that listens on it.");
            }
        }

        return rewritten;
    }

    private void StartMaster()
    {
        // Postfix reports fatal start-up errors only to syslog unless stderr is a terminal: script(1) gives it one.
        string[] start = File.Exists(ExternalTool.Script)
            ? [ExternalTool.Script, "-qec", $"{ExternalTool.Postfix} -c {ConfigDir} start", "/dev/null"]
            : [ExternalTool.Postfix, "-c", ConfigDir, "start"];
        var result = ExternalTool.Run(start[0], start[1..], CommandTimeout);
        MasterPid = ReadMasterPid();

        if (result.ExitCode != 0)
        {
            Assert.Fail($"postfix start failed.\n{result.Describe()}\n{DescribeMailLog()}");
        }

        // The master writes its pid file and opens the smtpd listener before 'postfix start' returns (master -w);
        // wait a little anyway.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (MasterPid == 0)
            {
                MasterPid = ReadMasterPid();
            }

            if (MasterPid != 0 && CanConnect())
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"Postfix (master pid {MasterPid}) does not accept SMTP connections on 127.0.0.1:{SmtpPort} 10 s after start.\n" +
                    $"{result.Describe()}\n{DescribeMailLog()}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// The pid in the queue directory's pid/master.pid, or 0. Read with cat: the master holds an exclusive flock on the
    /// file, and .NET's own file opening takes a shared flock and fails on it.
    /// </summary>
    private int ReadMasterPid()
    {
        string pidFile = System.IO.Path.Combine(QueueDir, "pid", "master.pid");
        if (!File.Exists(pidFile))
        {
            return 0;
        }

        var cat = ExternalTool.Run("/bin/cat", [pidFile], CommandTimeout);
        return cat.ExitCode == 0 && int.TryParse(cat.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0;
    }

    /// <summary>The pid of a live 'master' process whose working directory is this instance's queue directory, or 0.</summary>
    private int FindMasterByQueueDirectory()
    {
        foreach (string proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(System.IO.Path.GetFileName(proc), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string? cwd = new DirectoryInfo(System.IO.Path.Combine(proc, "cwd")).LinkTarget;
                if (cwd == QueueDir && File.ReadAllText(System.IO.Path.Combine(proc, "comm")).Trim() == "master" && ExternalTool.IsAlive(pid))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return 0;
    }

    private bool CanConnect()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Connect(System.Net.IPAddress.Loopback, SmtpPort);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>postfix -c DIR stop</c>, then waits for the master (by its pid) to be gone; SIGKILLs that pid if it lingers,
    /// and fails the test then.
    /// </summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (MasterPid == 0)
        {
            // Start failed half-way (or before the pid file could be read): find the master, if any, by its queue dir.
            MasterPid = FindMasterByQueueDirectory();
        }

        ToolResult? result = null;
        if (MasterPid != 0 && ExternalTool.IsAlive(MasterPid))
        {
            result = ExternalTool.Run(ExternalTool.Postfix, ["-c", ConfigDir, "stop"], CommandTimeout);
        }

        if (MasterPid != 0 && !ExternalTool.WaitGone(MasterPid, TimeSpan.FromSeconds(10)))
        {
            Native.Signal(MasterPid, Native.SIGKILL);
            ExternalTool.WaitGone(MasterPid, TimeSpan.FromSeconds(5));
            Assert.Fail($"the Postfix master (pid {MasterPid}) was still running 10 s after 'postfix stop'; killed it.\n{result?.Describe()}");
        }
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (Exception) when (MasterPid == 0 || !ExternalTool.IsAlive(MasterPid))
        {
        }
    }
}
