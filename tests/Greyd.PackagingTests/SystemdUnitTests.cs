using System.Globalization;
using System.Text.RegularExpressions;

namespace Greyd.PackagingTests;

/// <summary>
/// greyd.service and greyd.socket (systemd/), checked with systemd's own tools offline (PID 1 is not systemd here),
/// and the sysconfig, sysusers.d and tmpfiles.d files that go with them.
/// </summary>
public sealed class SystemdUnitTests
{
    private static readonly string s_service = RepositoryPaths.Path("systemd", "greyd.service");
    private static readonly string s_socket = RepositoryPaths.Path("systemd", "greyd.socket");

    [Fact]
    public void Systemd_analyze_verify_accepts_both_units_with_the_binary_at_the_ExecStart_path()
    {
        using var root = new TempRoot();
        string units = root.Directory("usr/lib/systemd/system");
        foreach (string unit in System.IO.Directory.EnumerateFiles("/usr/lib/systemd/system").Where(f => f.EndsWith(".target", StringComparison.Ordinal) || f.EndsWith(".slice", StringComparison.Ordinal)))
        {
            File.Copy(unit, Path.Combine(units, Path.GetFileName(unit)));
        }

        File.Copy(s_service, Path.Combine(units, "greyd.service"));
        File.Copy(s_socket, Path.Combine(units, "greyd.socket"));
        File.Copy(PackagingCommand.GreydBinary, Path.Combine(root.Directory("usr/sbin"), "greyd"));
        File.Copy("/bin/kill", Path.Combine(root.Directory("bin"), "kill"));

        var verify = PackagingCommand.Run("systemd-analyze", "verify", "--man=no", "--root=" + root.Path, "greyd.service", "greyd.socket");
        Assert.True(verify.ExitCode == 0 && verify.Output.Trim().Length == 0, "systemd-analyze verify reports problems:\n" + verify.Output);
    }

    [Fact]
    public void Systemd_analyze_security_rates_the_service_exposure_at_most_1_5()
    {
        var security = PackagingCommand.Run("systemd-analyze", "security", "--offline=yes", "--threshold=15", s_service);
        var exposure = Regex.Match(security.Output, @"Overall exposure level for greyd\.service: (\d+\.\d+) (\w+)");
        Assert.True(security.ExitCode == 0 && exposure.Success, "systemd-analyze security failed or is above the threshold:\n" + security.Output);
        double level = double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(level <= 1.5, $"exposure {level} is above 1.5:\n{security.Output}");
        Assert.Equal("OK", exposure.Groups[2].Value);
    }

    [Fact]
    public void The_service_is_a_notify_service_that_reloads_with_SIGHUP_and_logs_to_the_mail_facility()
    {
        var service = Settings(s_service);
        Assert.Equal(["notify"], service["Type"]);
        Assert.Equal(["/usr/sbin/greyd $OPTIONS"], service["ExecStart"]);
        Assert.Equal(["/bin/kill -HUP $MAINPID"], service["ExecReload"]);
        Assert.Equal(["-/etc/sysconfig/greyd"], service["EnvironmentFile"]);
        Assert.Equal(["mail"], service["SyslogFacility"]);
        Assert.Equal(["greyd"], service["SyslogIdentifier"]);
        Assert.Equal(["greyd"], service["User"]);
        Assert.Equal(["greyd"], service["Group"]);
        Assert.Equal(["greyd"], service["StateDirectory"]);
        Assert.Equal(["0700"], service["StateDirectoryMode"]);
        Assert.True(int.Parse(service["LimitNOFILE"].Single(), CultureInfo.InvariantCulture) >= 8192, "LimitNOFILE must cover --max-connections (4096)");
    }

    [Fact]
    public void The_service_is_hardened()
    {
        var service = Settings(s_service);
        Assert.Equal(["strict"], service["ProtectSystem"]);
        Assert.Equal(["yes"], service["NoNewPrivileges"]);
        Assert.Equal(["yes"], service["MemoryDenyWriteExecute"]);
        Assert.Equal(["AF_UNIX AF_INET AF_INET6"], service["RestrictAddressFamilies"]);
        Assert.Contains("@system-service", service["SystemCallFilter"]);
        Assert.Equal([string.Empty], service["CapabilityBoundingSet"]);
        Assert.Equal(["-/var/spool/postfix/greyd"], service["ReadWritePaths"]);
    }

    [Fact]
    public void The_service_wants_and_follows_its_socket_and_enabling_it_enables_the_socket()
    {
        var service = Settings(s_service);
        Assert.Equal(["greyd.socket"], service["Wants"]);
        Assert.Contains("greyd.socket", service["After"].Single().Split(' '));
        Assert.Equal(["greyd.socket"], service["Also"]);
        Assert.Equal(["multi-user.target"], service["WantedBy"]);
        Assert.False(service.ContainsKey("Requires"), "greyd.service must also work with greyd.socket masked");
    }

    [Fact]
    public void The_socket_listens_in_the_postfix_spool_for_group_postfix_only()
    {
        var socket = Settings(s_socket);
        Assert.Equal(["/var/spool/postfix/greyd/socket"], socket["ListenStream"]);
        Assert.Equal(["greyd"], socket["SocketUser"]);
        Assert.Equal(["postfix"], socket["SocketGroup"]);
        Assert.Equal(["0660"], socket["SocketMode"]);
        Assert.Equal(["sockets.target"], socket["WantedBy"]);
    }

    [Fact]
    public void The_default_options_name_the_socket_units_path_and_greyd_accepts_them()
    {
        string sysconfig = File.ReadAllText(RepositoryPaths.Path("systemd", "greyd.sysconfig"));
        var options = Regex.Match(sysconfig, "^OPTIONS=\"([^\"]*)\"$", RegexOptions.Multiline);
        Assert.True(options.Success, "greyd.sysconfig has no OPTIONS=\"...\" line");
        var args = options.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("--unix=" + Settings(s_socket)["ListenStream"].Single(), args);
        Assert.Contains("--socketmode=0660", args);
        Assert.Contains("--spf-pools", args);

        // --version is answered after every option is parsed, so an unknown option would fail here.
        var check = PackagingCommand.Run(PackagingCommand.GreydBinary, [.. args, "--version"]);
        Assert.True(check.ExitCode == 0, "greyd rejects the default OPTIONS: " + check.Output);
    }

    [Fact]
    public void Sysusers_and_tmpfiles_create_the_user_and_the_state_and_socket_directories()
    {
        Assert.True(Environment.UserName == "root", "this test chowns files as systemd-tmpfiles does at boot, so it must run as root");
        using var root = new TempRoot();
        File.WriteAllText(Path.Combine(root.Directory("etc"), "passwd"), "root:x:0:0:root:/root:/bin/bash\npostfix:x:89:89::/var/spool/postfix:/sbin/nologin\n");
        File.WriteAllText(Path.Combine(root.Directory("etc"), "group"), "root:x:0:\npostfix:x:89:\n");
        File.Copy(RepositoryPaths.Path("systemd", "greyd.sysusers"), Path.Combine(root.Directory("usr/lib/sysusers.d"), "greyd.conf"));
        File.Copy(RepositoryPaths.Path("systemd", "greyd.tmpfiles"), Path.Combine(root.Directory("usr/lib/tmpfiles.d"), "greyd.conf"));

        var sysusers = PackagingCommand.Run("systemd-sysusers", "--root=" + root.Path, "greyd.conf");
        Assert.True(sysusers.ExitCode == 0, "systemd-sysusers failed:\n" + sysusers.Output);
        string user = File.ReadAllLines(Path.Combine(root.Path, "etc/passwd")).Single(l => l.StartsWith("greyd:", StringComparison.Ordinal));
        Assert.Matches(@"^greyd:x:\d+:\d+:[^:]*:/var/lib/greyd:/usr/s?bin/nologin$", user);
        string greydGroup = File.ReadAllLines(Path.Combine(root.Path, "etc/group")).Single(l => l.StartsWith("greyd:", StringComparison.Ordinal));
        uint uid = uint.Parse(user.Split(':')[2], CultureInfo.InvariantCulture);
        uint gid = uint.Parse(greydGroup.Split(':')[2], CultureInfo.InvariantCulture);

        var tmpfiles = PackagingCommand.Run("systemd-tmpfiles", "--root=" + root.Path, "--create", "greyd.conf");
        Assert.True(tmpfiles.ExitCode == 0, "systemd-tmpfiles failed:\n" + tmpfiles.Output);
        Assert.Equal($"drwx------ {uid}:{gid}", Describe(Path.Combine(root.Path, "var/lib/greyd")));
        Assert.Equal($"drwxr-s--- {uid}:89", Describe(Path.Combine(root.Path, "var/spool/postfix/greyd")));
    }

    /// <summary>A unit file's settings: key to values in file order (repeated keys accumulate; comments skipped).</summary>
    private static Dictionary<string, List<string>> Settings(string unitFile)
    {
        var settings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (string raw in File.ReadAllLines(unitFile))
        {
            string line = raw.Trim();
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] is '#' or ';' or '[' || eq < 0)
            {
                continue;
            }

            string key = line[..eq].Trim();
            if (!settings.TryGetValue(key, out var values))
            {
                settings[key] = values = [];
            }

            values.Add(line[(eq + 1)..].Trim());
        }

        return settings;
    }

    private static string Describe(string path)
    {
        var output = PackagingCommand.Run("stat", "-c", "%A %u:%g", path);
        Assert.True(output.ExitCode == 0, $"{path} was not created: {output.Output}");
        return output.Output.Trim();
    }

    private sealed class TempRoot : IDisposable
    {
        public string Path { get; } = System.IO.Directory.CreateTempSubdirectory("greyd-systemd-").FullName;

        public string Directory(string relative) => System.IO.Directory.CreateDirectory(System.IO.Path.Combine(Path, relative)).FullName;

        public void Dispose() => System.IO.Directory.Delete(Path, recursive: true);
    }
}
