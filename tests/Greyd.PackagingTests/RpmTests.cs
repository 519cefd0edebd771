using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Greyd.PackagingTests;

/// <summary>
/// Builds greyd and greyd-selinux with <c>./build.sh rpm</c> from the published AOT binary, then checks them with
/// rpm, rpmlint and man, and installs them into an empty root. Scriptlets cannot run here (no RPM system).
/// </summary>
public sealed class RpmTests(RpmTests.BuiltPackages packages) : IClassFixture<RpmTests.BuiltPackages>
{
    [Fact]
    public void Build_sh_rpm_builds_the_greyd_and_greyd_selinux_packages()
    {
        Assert.True(File.Exists(packages.Main), $"{packages.Main} was not built");
        Assert.True(File.Exists(packages.Selinux), $"{packages.Selinux} was not built");
        Assert.Equal("greyd 0.1.0-1 x86_64", PackagingCommand.Rpm("-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}", packages.Main).Trim());
        Assert.Equal("greyd-selinux noarch", PackagingCommand.Rpm("-qp", "--qf", "%{NAME} %{ARCH}", packages.Selinux).Trim());
    }

    [Fact]
    public void The_spec_version_is_the_project_version()
    {
        string props = File.ReadAllText(RepositoryPaths.Path("Directory.Build.props"));
        string spec = File.ReadAllText(RepositoryPaths.Path("rpm", "greyd.spec"));
        string projectVersion = Regex.Match(props, "<Version>([^<]+)</Version>").Groups[1].Value;
        Assert.Equal(projectVersion, Regex.Match(spec, @"^Version:\s*(\S+)$", RegexOptions.Multiline).Groups[1].Value);
    }

    [Fact]
    public void Rpmlint_reports_no_errors_for_the_packages_and_the_spec()
    {
        var result = PackagingCommand.Run("rpmlint", "-r", RepositoryPaths.Path("rpm", "greyd.rpmlintrc"), packages.Main, packages.Selinux, RepositoryPaths.Path("rpm", "greyd.spec"));
        var summary = Regex.Match(result.Output, @"(\d+) errors, (\d+) warnings");
        Assert.True(result.ExitCode == 0 && summary.Success && summary.Groups[1].Value == "0", "rpmlint found errors:\n" + result.Output);
        Assert.True(int.Parse(summary.Groups[2].Value) <= 2, "rpmlint warnings beyond the justified filters in rpm/greyd.rpmlintrc:\n" + result.Output);
    }

    [Fact]
    public void The_package_holds_the_binary_units_configuration_sysusers_tmpfiles_whitelists_man_page_and_licence()
    {
        var files = Lines(PackagingCommand.Rpm("-qlp", packages.Main));
        string[] expected =
        [
            "/usr/sbin/greyd",
            "/usr/lib/systemd/system/greyd.service",
            "/usr/lib/systemd/system/greyd.socket",
            "/etc/sysconfig/greyd",
            "/usr/lib/sysusers.d/greyd.conf",
            "/usr/lib/tmpfiles.d/greyd.conf",
            "/etc/greyd/whitelist_clients",
            "/etc/greyd/whitelist_recipients",
            "/usr/share/licenses/greyd/LICENSE",
            "/var/lib/greyd",
            "/var/spool/postfix/greyd",
        ];
        Assert.All(expected, path => Assert.Contains(path, files));
        Assert.Contains(files, f => f.StartsWith("/usr/share/man/man8/greyd.8", StringComparison.Ordinal));
    }

    [Fact]
    public void The_selinux_package_holds_the_policy_module_and_its_interface()
    {
        var files = Lines(PackagingCommand.Rpm("-qlp", packages.Selinux));
        Assert.Contains("/usr/share/selinux/packages/targeted/greyd.pp.bz2", files);
        Assert.Contains("/usr/share/selinux/devel/include/distributed/greyd.if", files);
    }

    [Fact]
    public void The_state_and_socket_directories_have_their_owners_and_modes()
    {
        var modes = Lines(PackagingCommand.Rpm("-qp", "--qf", "[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]", packages.Main));
        Assert.Contains("-rwxr-xr-x root:root /usr/sbin/greyd", modes);
        Assert.Contains("drwx------ greyd:greyd /var/lib/greyd", modes);
        Assert.Contains("drwxr-s--- greyd:postfix /var/spool/postfix/greyd", modes);
    }

    [Fact]
    public void The_whitelists_and_sysconfig_are_config_files_that_updates_do_not_replace()
    {
        var config = Lines(PackagingCommand.Rpm("-qp", "--configfiles", packages.Main));
        Assert.Equal(["/etc/greyd/whitelist_clients", "/etc/greyd/whitelist_recipients", "/etc/sysconfig/greyd"], config.Order(StringComparer.Ordinal));
        var flags = Lines(PackagingCommand.Rpm("-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", packages.Main));
        Assert.All(config, path => Assert.Contains("cn " + path, flags));
    }

    [Fact]
    public void The_package_requires_glibc_2_34_and_postfix()
    {
        var requires = Lines(PackagingCommand.Rpm("-qpR", packages.Main));
        Assert.Contains("glibc >= 2.34", requires);
        Assert.Contains("postfix", requires);
        Assert.Contains("(greyd-selinux if selinux-policy-targeted)", requires);
        Assert.Contains("selinux-policy-targeted", Lines(PackagingCommand.Rpm("-qpR", packages.Selinux)));
    }

    [Fact]
    public void The_scriptlets_create_the_user_apply_tmpfiles_and_manage_the_service_and_socket()
    {
        string scripts = PackagingCommand.Rpm("-qp", "--scripts", packages.Main);
        Assert.Contains("useradd -r -g greyd", scripts);
        Assert.Contains("systemd-tmpfiles --create /usr/lib/tmpfiles.d/greyd.conf", scripts);
        Assert.Contains("systemctl --no-reload preset greyd.service greyd.socket", scripts);
        Assert.Contains("systemctl --no-reload disable --now greyd.service greyd.socket", scripts);
        Assert.Contains("systemctl try-restart greyd.service", scripts);
        Assert.Contains("systemctl daemon-reload", scripts);
    }

    [Fact]
    public void The_selinux_scriptlets_install_the_module_relabel_and_remove_it_cleanly()
    {
        string scripts = PackagingCommand.Rpm("-qp", "--scripts", packages.Selinux);
        Assert.Contains("semodule -n -s targeted -X 200 -i /usr/share/selinux/packages/targeted/greyd.pp.bz2", scripts);
        Assert.Contains("semodule -n -X 200 -s targeted -r greyd", scripts);
        Assert.Contains("load_policy", scripts);
        Assert.Contains("restorecon -R -i /usr/sbin/greyd", scripts);
        Assert.Contains("posttrans scriptlet", scripts);
    }

    [Fact]
    public void The_packages_install_into_an_empty_root_with_every_file_where_promised()
    {
        string root = packages.InstallRoot;
        Assert.Equal("greyd-0.1.0-1\ngreyd-selinux-0.1.0-1", string.Join('\n', Lines(PackagingCommand.Run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n").Output).Order(StringComparer.Ordinal)));
        AssertSameFile(packages.Binary, root, "usr/sbin/greyd");
        AssertSameFile(RepositoryPaths.Path("systemd", "greyd.service"), root, "usr/lib/systemd/system/greyd.service");
        AssertSameFile(RepositoryPaths.Path("systemd", "greyd.socket"), root, "usr/lib/systemd/system/greyd.socket");
        AssertSameFile(RepositoryPaths.Path("systemd", "greyd.sysconfig"), root, "etc/sysconfig/greyd");
        AssertSameFile(RepositoryPaths.Path("systemd", "greyd.sysusers"), root, "usr/lib/sysusers.d/greyd.conf");
        AssertSameFile(RepositoryPaths.Path("systemd", "greyd.tmpfiles"), root, "usr/lib/tmpfiles.d/greyd.conf");
        AssertSameFile(RepositoryPaths.Path("dist", "whitelist_clients"), root, "etc/greyd/whitelist_clients");
        AssertSameFile(RepositoryPaths.Path("dist", "whitelist_recipients"), root, "etc/greyd/whitelist_recipients");
        AssertSameFile(RepositoryPaths.Path("LICENSE"), root, "usr/share/licenses/greyd/LICENSE");
        AssertSameFile(RepositoryPaths.Path("selinux", "greyd.if"), root, "usr/share/selinux/devel/include/distributed/greyd.if");
        Assert.True(File.Exists(Path.Combine(root, "usr/share/selinux/packages/targeted/greyd.pp.bz2")), "the policy module is not installed");
        Assert.True(Directory.Exists(Path.Combine(root, "var/lib/greyd")), "/var/lib/greyd is not installed");
        Assert.True(Directory.Exists(Path.Combine(root, "var/spool/postfix/greyd")), "/var/spool/postfix/greyd is not installed");
        var version = PackagingCommand.Run(Path.Combine(root, "usr/sbin/greyd"), "--version");
        Assert.True(version.ExitCode == 0 && version.Output.StartsWith("greyd 0.1.0", StringComparison.Ordinal), "the installed binary does not run: " + version.Output);
    }

    [Fact]
    public void The_installed_man_page_renders_without_warnings()
    {
        var lint = PackagingCommand.Run("groff", "-man", "-Tutf8", "-ww", "-z", RepositoryPaths.Path("man", "greyd.8"));
        Assert.True(lint.ExitCode == 0 && lint.Output.Length == 0, "groff reports problems in man/greyd.8:\n" + lint.Output);
        string page = packages.RenderedManPage;
        Assert.Contains("greyd - greylisting policy server for Postfix", page);
        Assert.Contains("check_policy_service { unix:greyd/socket", page);
    }

    [Fact]
    public void The_man_page_describes_every_option_greyd_help_prints()
    {
        var help = PackagingCommand.Run(packages.Binary, "--help");
        Assert.Equal(0, help.ExitCode);
        var options = Regex.Matches(help.Output, @"(?<![\w-])(--?[A-Za-z][\w-]*)").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(options.Count > 40, "greyd --help printed too few options:\n" + help.Output);
        string page = packages.RenderedManPage;
        var missing = options.Where(o => !Regex.IsMatch(page, @"(?<![\w-])" + Regex.Escape(o) + @"(?![\w-])")).ToList();
        Assert.True(missing.Count == 0, "greyd(8) does not mention: " + string.Join(", ", missing));
    }

    private static void AssertSameFile(string expected, string root, string relative)
    {
        string actual = Path.Combine(root, relative);
        Assert.True(File.Exists(actual), $"/{relative} is not installed");
        Assert.True(File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual)), $"/{relative} differs from {expected}");
    }

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>Runs <c>./build.sh rpm</c> once for the class, into a temporary directory, and installs the result into an empty root.</summary>
    public sealed class BuiltPackages : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("greyd-rpm-").FullName;
        private readonly Lazy<string> _installRoot;
        private readonly Lazy<string> _manPage;

        public BuiltPackages()
        {
            Binary = PackagingCommand.GreydBinary;
            PackagingCommand.Require("rpmbuild", "rpm");
            var build = PackagingCommand.Run(
                RepositoryPaths.Path("build.sh"),
                ["rpm"],
                new Dictionary<string, string> { ["GREYD_BINARY"] = Binary, ["RPM_OUTDIR"] = Path.Combine(_dir, "rpms") });
            Main = Path.Combine(_dir, "rpms", "greyd-0.1.0-1.x86_64.rpm");
            Selinux = Path.Combine(_dir, "rpms", "greyd-selinux-0.1.0-1.noarch.rpm");
            if (build.ExitCode != 0 || !File.Exists(Main) || !File.Exists(Selinux))
            {
                throw new InvalidOperationException($"./build.sh rpm failed (exit {build.ExitCode}):\n{build.Output}");
            }

            _installRoot = new Lazy<string>(Install);
            _manPage = new Lazy<string>(RenderManPage);
        }

        public string Binary { get; }

        public string Main { get; }

        public string Selinux { get; }

        public string InstallRoot => _installRoot.Value;

        /// <summary>The installed (compressed) man page as man shows it, with groff's hyphen and minus glyphs made ASCII.</summary>
        public string RenderedManPage => _manPage.Value;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private string Install()
        {
            string root = Path.Combine(_dir, "root");
            Directory.CreateDirectory(root);
            var install = PackagingCommand.Run("rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-ivh", "--nodeps", "--noscripts", Main, Selinux);
            Assert.True(install.ExitCode == 0, "rpm -ivh into an empty root failed:\n" + install.Output);
            return root;
        }

        private string RenderManPage()
        {
            PackagingCommand.Require("man", "man-db");
            string page = Path.Combine(InstallRoot, "usr/share/man/man8/greyd.8.gz");
            Assert.True(File.Exists(page), "/usr/share/man/man8/greyd.8.gz is not installed");
            var man = PackagingCommand.Run("man", ["-l", page], new Dictionary<string, string> { ["MANWIDTH"] = "100", ["MANPAGER"] = "cat", ["MAN_KEEP_FORMATTING"] = "" });
            Assert.True(man.ExitCode == 0 && man.Output.Contains("SYNOPSIS", StringComparison.Ordinal), "man -l failed:\n" + man.Output);
            return man.Output.Replace('\u2010', '-').Replace('\u2011', '-').Replace('\u2212', '-');
        }
    }
}

/// <summary>Runs the distribution tools the packaging tests use; a missing tool fails the test with the package to install.</summary>
internal static class PackagingCommand
{
    /// <summary>The published AOT binary: <c>$GREYD_BINARY</c> (set by build.sh test) or artifacts/greyd/greyd.</summary>
    public static string GreydBinary
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("GREYD_BINARY") is { Length: > 0 } set ? set : RepositoryPaths.Path("artifacts", "greyd", "greyd");
            Assert.True(File.Exists(path), $"the greyd binary {path} is missing: run ./build.sh publish (or set GREYD_BINARY)");
            return Path.GetFullPath(path);
        }
    }

    public static void Require(string tool, string package)
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));
        Assert.True(found, $"{tool} is not installed: install the {package} package (./build.sh deps)");
    }

    public static string Rpm(params string[] args)
    {
        var result = Run("rpm", args);
        Assert.True(result.ExitCode == 0, $"rpm {string.Join(' ', args)} failed:\n{result.Output}");
        return result.Output;
    }

    public static (int ExitCode, string Output) Run(string file, params string[] args) => Run(file, args, null);

    /// <summary>Runs a program to completion (at most two minutes); the output is stdout and stderr together.</summary>
    public static (int ExitCode, string Output) Run(string file, string[] args, IReadOnlyDictionary<string, string>? environment)
    {
        if (!file.Contains('/', StringComparison.Ordinal))
        {
            Require(file, file switch
            {
                "rpm" or "rpmbuild" => "rpm (rpm-build on EL)",
                "systemd-analyze" or "systemd-tmpfiles" or "systemd-sysusers" => "systemd",
                "groff" => "groff-base",
                "man" => "man-db",
                _ => file,
            });
        }

        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var lockObject = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (lockObject) { output.Append(e.Data).Append('\n'); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (lockObject) { output.Append(e.Data).Append('\n'); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within two minutes");
        }

        process.WaitForExit();
        lock (lockObject)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
