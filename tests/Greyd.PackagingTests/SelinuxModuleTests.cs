using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Greyd.PackagingTests;

/// <summary>
/// Builds selinux/greyd.{te,fc,if} with the distribution's devel Makefile in a temporary copy and reads the result:
/// the compiled module as CIL (rules, boolean, types), its file contexts through matchpathcon, and, where a full
/// policy is at hand, the module linked into a copy of that policy and queried with setools.
/// A missing tool fails the test with the package to install; nothing is skipped.
/// </summary>
public sealed partial class SelinuxModuleTests : IClassFixture<SelinuxModuleTests.ModuleBuild>
{
    private const string DevelMakefile = "/usr/share/selinux/devel/Makefile";
    private const string PpToCil = "/usr/libexec/selinux/hll/pp";

    private readonly ModuleBuild build;
    private readonly ITestOutputHelper output;

    public SelinuxModuleTests(ModuleBuild build, ITestOutputHelper output)
    {
        this.build = build;
        this.output = output;
    }

    private Built Module()
    {
        var b = build.Get();
        output.WriteLine(build.Timings);
        return b;
    }

    [Fact]
    public void The_module_compiles_with_the_devel_Makefile_and_leaves_nothing_in_the_repository()
    {
        var b = Module();
        Assert.True(new FileInfo(b.PackagePath).Length > 0, "greyd.pp is empty");
        Assert.DoesNotMatch(@"(?i)\berror\b", b.MakeOutput);

        string[] sources = Directory.GetFileSystemEntries(RepositoryPaths.Path("selinux"))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal)
            .ToArray()!;
        Assert.Equal(["greyd.fc", "greyd.if", "greyd.te"], sources);
    }

    [Fact]
    public void The_module_declares_a_confined_daemon_domain_with_its_own_types()
    {
        var cil = Module().Cil;
        foreach (string type in new[]
                 {
                     "greyd_t", "greyd_exec_t", "greyd_etc_t", "greyd_var_lib_t", "greyd_runtime_t", "greyd_spool_t",
                     "greyd_port_t", "greyd_metrics_port_t", "greyd_unit_file_t",
                 })
        {
            Assert.True(cil.Text.Contains($"(type {type})", StringComparison.Ordinal), $"the module does not declare {type}");
        }

        Assert.True(cil.InAttribute("daemon", "greyd_t"), "greyd_t is not a daemon (init_daemon_domain)");
        Assert.True(cil.InAttribute("port_type", "greyd_port_t"), "greyd_port_t is not a port type (corenet_port)");
        Assert.True(cil.InAttribute("port_type", "greyd_metrics_port_t"), "greyd_metrics_port_t is not a port type (corenet_port)");
        Assert.Contains("(typetransition init_t greyd_exec_t process greyd_t)", cil.Text, StringComparison.Ordinal);
        Assert.Contains("(boolean greyd_connect_shared_store false)", cil.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Postfix_smtpd_may_connect_to_the_unix_socket_and_the_tcp_port()
    {
        var cil = Module().Cil;
        cil.AssertAllows("postfix_smtpd_t", "greyd_t", "unix_stream_socket", "connectto");
        cil.AssertAllows("postfix_smtpd_t", "greyd_spool_t", "sock_file", "write");
        cil.AssertAllows("postfix_smtpd_t", "greyd_spool_t", "dir", "search");
        cil.AssertAllows("postfix_smtpd_t", "greyd_runtime_t", "sock_file", "write");
        cil.AssertAllows("postfix_smtpd_t", "greyd_port_t", "tcp_socket", "name_connect");
    }

    [Fact]
    public void Greyd_manages_its_store_and_socket_and_binds_its_port()
    {
        var cil = Module().Cil;
        cil.AssertAllows("greyd_t", "greyd_var_lib_t", "dir", "create", "write", "add_name", "remove_name", "rename", "rmdir", "read");
        cil.AssertAllows("greyd_t", "greyd_var_lib_t", "file", "create", "write", "rename", "unlink", "lock", "map", "setattr");
        cil.AssertAllows("greyd_t", "greyd_spool_t", "sock_file", "create", "unlink", "setattr");
        cil.AssertAllows("greyd_t", "greyd_runtime_t", "file", "create", "write", "unlink");
        cil.AssertAllows("greyd_t", "greyd_etc_t", "file", "read", "open");
        cil.AssertAllows("greyd_t", "greyd_port_t", "tcp_socket", "name_bind");
        cil.AssertAllows("greyd_t", "self", "tcp_socket", "listen", "accept");
        cil.AssertAllows("init_t", "greyd_spool_t", "sock_file", "create");
        Assert.Contains("(typetransition greyd_t postfix_spool_t dir \"greyd\" greyd_spool_t)", cil.Text, StringComparison.Ordinal);
        Assert.Contains("(typetransition greyd_t var_lib_t dir greyd_var_lib_t)", cil.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Greyd_binds_the_metrics_port_and_Postfix_may_not_connect_to_it()
    {
        var cil = Module().Cil;
        cil.AssertAllows("greyd_t", "greyd_metrics_port_t", "tcp_socket", "name_bind");
        Assert.DoesNotMatch(@"\(allow postfix_smtpd_t greyd_metrics_port_t ", cil.Text);
    }

    [Fact]
    public void Outbound_connections_to_a_shared_store_exist_only_behind_the_boolean()
    {
        var cil = Module().Cil;
        string block = cil.Block("(booleanif (greyd_connect_shared_store)");
        Assert.Contains("(allow greyd_t redis_port_t (tcp_socket (name_connect)))", block, StringComparison.Ordinal);

        // Outside it, only DNS (--spf-pools asks resolvers, over TCP for a truncated answer).
        string outside = cil.Text.Replace(block, "", StringComparison.Ordinal);
        var connects = System.Text.RegularExpressions.Regex.Matches(outside, @"\(allow greyd_t (\S+) \(tcp_socket \([^)]*\bname_connect\b")
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(["dns_port_t"], connects);
    }

    [Fact]
    public void Greyd_may_ask_dns_resolvers_for_sender_pools()
    {
        var cil = Module().Cil;
        cil.AssertAllows("greyd_t", "dns_port_t", "tcp_socket", "name_connect");
        // UDP: refpolicy labels DNS client packets; RHEL's policy grants the port's udp_socket.
        Assert.True(
            cil.Text.Contains("(allow greyd_t dns_client_packet_t (packet (send)))", StringComparison.Ordinal)
            || System.Text.RegularExpressions.Regex.IsMatch(cil.Text, @"\(allow greyd_t dns_port_t \(udp_socket \([^)]*\bsend_msg\b"),
            "greyd_t may not send DNS queries over UDP");
    }

    [Fact]
    public void Greyd_gets_no_execmem_execstack_or_execmod()
    {
        var cil = Module().Cil;
        Assert.DoesNotMatch(@"\(allow greyd_t \S+ \((process|file) \([^)]*\b(execmem|execstack|execheap|execmod)\b", cil.Text);
    }

    [Theory]
    [InlineData("/usr/sbin/greyd", "greyd_exec_t")]
    [InlineData("/usr/bin/greyd", "greyd_exec_t")]
    [InlineData("/usr/lib/systemd/system/greyd.service", "greyd_unit_file_t")]
    [InlineData("/usr/lib/systemd/system/greyd.socket", "greyd_unit_file_t")]
    [InlineData("/etc/greyd/whitelist_clients.local", "greyd_etc_t")]
    [InlineData("/var/lib/greyd", "greyd_var_lib_t")]
    [InlineData("/var/lib/greyd/checkpoints/cpr-1/info.dat", "greyd_var_lib_t")]
    [InlineData("/var/lib/greyd/greyd.lock", "greyd_var_lib_t")]
    [InlineData("/run/greyd/greyd.sock", "greyd_runtime_t")]
    [InlineData("/run/greyd.pid", "greyd_runtime_t")]
    [InlineData("/var/spool/postfix/greyd", "greyd_spool_t")]
    [InlineData("/var/spool/postfix/greyd/socket", "greyd_spool_t")]
    public void The_file_contexts_label_greyd_paths(string path, string type)
    {
        var b = Module();
        string context = MatchPathCon(b.FileContextsPath, path);
        Assert.True(context == $"system_u:object_r:{type}:s0", $"{path} is labelled '{context}', expected {type}");
    }

    [Fact]
    public void The_module_links_into_a_full_policy_and_the_final_policy_has_the_rules()
    {
        var b = Module();
        var clock = Stopwatch.StartNew();
        using var store = PolicyStore.Create(output);
        store.Install(b.PackagePath);
        output.WriteLine($"link test: store from {store.Origin}, total {clock.Elapsed.TotalSeconds:F1} s");

        string python = Tools.Require("/usr/bin/python3", "python3 (with python3-setools)");
        string script = """
            import sys, setools
            p = setools.SELinuxPolicy(sys.argv[1])
            def allows(s, t, c, perm):
                for r in setools.TERuleQuery(p, ruletype=["allow"], source=s, target=t, tclass=[c], perms=[perm]).results():
                    return True
                return False
            checks = [
                ("postfix_smtpd_t", "greyd_t", "unix_stream_socket", "connectto"),
                ("postfix_smtpd_t", "greyd_spool_t", "sock_file", "write"),
                ("postfix_smtpd_t", "greyd_port_t", "tcp_socket", "name_connect"),
                ("greyd_t", "greyd_var_lib_t", "dir", "create"),
                ("greyd_t", "greyd_port_t", "tcp_socket", "name_bind"),
                ("greyd_t", "greyd_metrics_port_t", "tcp_socket", "name_bind"),
            ]
            for c in checks:
                print("allow %s %s:%s %s -> %s" % (c + (allows(*c),)))
            trans = [str(r) for r in setools.TERuleQuery(p, ruletype=["type_transition"], source="init_t", target="greyd_exec_t").results()]
            print("transition " + ";".join(trans))
            print("bools " + ";".join("%s=%s" % (b, b.state) for b in p.bools() if str(b).startswith("greyd")))
            print("execmem " + str(any(True for r in setools.TERuleQuery(p, ruletype=["allow"], source="greyd_t", perms=["execmem"]).results())))
            """;
        var result = Tools.Run(python, ["-c", script, store.PolicyFile], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, "setools could not read the linked policy (is python3-setools installed for /usr/bin/python3?):\n" + result.All);
        output.WriteLine(result.StdOut);

        Assert.DoesNotContain("-> False", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("type_transition init_t greyd_exec_t:process greyd_t", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("bools greyd_connect_shared_store=False", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("execmem False", result.StdOut, StringComparison.Ordinal);

        Assert.Equal("system_u:object_r:greyd_spool_t:s0", MatchPathCon(store.FileContexts, "/var/spool/postfix/greyd/socket"));
        Assert.Equal("system_u:object_r:greyd_exec_t:s0", MatchPathCon(store.FileContexts, "/usr/sbin/greyd"));
    }

    private static string MatchPathCon(string fileContexts, string path)
    {
        string tool = Tools.Require("matchpathcon", "matchpathcon (Debian: selinux-utils; RHEL: libselinux-utils)");
        var r = Tools.Run(tool, ["-f", fileContexts, path], TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, $"matchpathcon -f {fileContexts} {path} failed:\n{r.All}");
        string line = r.StdOut.Trim();
        int tab = line.LastIndexOfAny(['\t', ' ']);
        return tab < 0 ? line : line[(tab + 1)..];
    }

    /// <summary>The compiled module, built once for the class.</summary>
    public sealed class ModuleBuild : IDisposable
    {
        private readonly Lazy<Built> built;
        private readonly string work = Directory.CreateTempSubdirectory("greyd-selinux-").FullName;

        public ModuleBuild() => built = new Lazy<Built>(BuildModule, LazyThreadSafetyMode.ExecutionAndPublication);

        public string Timings { get; private set; } = "";

        public Built Get() => built.Value;

        public void Dispose()
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private Built BuildModule()
        {
            if (!File.Exists(DevelMakefile))
            {
                Assert.Fail($"{DevelMakefile} is missing: install selinux-policy-dev, checkpolicy and semodule-utils (Debian) or selinux-policy-devel (RHEL)");
            }

            string make = Tools.Require("make", "make");
            Tools.Require("checkmodule", "checkmodule (Debian: checkpolicy; RHEL: checkpolicy)");
            Tools.Require("semodule_package", "semodule_package (Debian: semodule-utils; RHEL: policycoreutils)");
            string unpackage = Tools.Require("semodule_unpackage", "semodule_unpackage (Debian: semodule-utils; RHEL: policycoreutils)");
            string ppToCil = Tools.Require(PpToCil, "the pp-to-CIL converter (Debian: policycoreutils; RHEL: policycoreutils)");

            string src = Path.Combine(work, "selinux");
            Directory.CreateDirectory(src);
            foreach (string name in new[] { "greyd.te", "greyd.fc", "greyd.if" })
            {
                string from = RepositoryPaths.Path("selinux", name);
                Assert.True(File.Exists(from), $"{from} is missing");
                File.Copy(from, Path.Combine(src, name));
            }

            var clock = Stopwatch.StartNew();
            var m = Tools.Run(make, ["-f", DevelMakefile, "greyd.pp"], TimeSpan.FromMinutes(2), src);
            var makeTime = clock.Elapsed;
            string pp = Path.Combine(src, "greyd.pp");
            Assert.True(m.ExitCode == 0 && File.Exists(pp), $"make -f {DevelMakefile} greyd.pp failed (exit {m.ExitCode}):\n{m.All}");

            string cilPath = Path.Combine(work, "greyd.cil");
            var c = Tools.Run(ppToCil, [pp, cilPath], TimeSpan.FromMinutes(1));
            Assert.True(c.ExitCode == 0 && File.Exists(cilPath), $"{PpToCil} could not convert greyd.pp to CIL:\n{c.All}");

            string fc = Path.Combine(work, "greyd.fc.compiled");
            var u = Tools.Run(unpackage, [pp, Path.Combine(work, "greyd.mod"), fc], TimeSpan.FromMinutes(1));
            Assert.True(u.ExitCode == 0 && File.Exists(fc), $"semodule_unpackage could not extract the file contexts:\n{u.All}");

            Timings = $"make greyd.pp: {makeTime.TotalSeconds:F2} s; build, CIL and unpack: {clock.Elapsed.TotalSeconds:F2} s";
            return new Built(pp, m.All, new Cil(File.ReadAllText(cilPath)), fc);
        }
    }

    public sealed record Built(string PackagePath, string MakeOutput, Cil Cil, string FileContextsPath);

    /// <summary>The module as CIL text, with its allow rules gathered by (source, target, class).</summary>
    public sealed partial class Cil
    {
        private readonly Dictionary<(string Source, string Target, string Class), HashSet<string>> allows = [];

        public Cil(string text)
        {
            Text = text;
            foreach (Match match in AllowRule().Matches(text))
            {
                var key = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
                if (!allows.TryGetValue(key, out var perms))
                {
                    allows[key] = perms = [];
                }

                perms.UnionWith(match.Groups[4].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        public string Text { get; }

        public void AssertAllows(string source, string target, string tclass, params string[] perms)
        {
            allows.TryGetValue((source, target, tclass), out var granted);
            string[] missing = perms.Where(p => granted is null || !granted.Contains(p)).ToArray();
            Assert.True(
                missing.Length == 0,
                $"the module does not allow {source} {target}:{tclass} {{ {string.Join(' ', missing)} }}" +
                $" (granted: {{ {string.Join(' ', granted ?? [])} }})");
        }

        public bool InAttribute(string attribute, string type) =>
            Regex.IsMatch(Text, $@"\(typeattributeset {Regex.Escape(attribute)} \([^)]*\b{Regex.Escape(type)}\b");

        /// <summary>The balanced-parenthesis block that starts with <paramref name="opening"/>.</summary>
        public string Block(string opening)
        {
            int start = Text.IndexOf(opening, StringComparison.Ordinal);
            Assert.True(start >= 0, $"the module has no block starting '{opening}'");
            int depth = 0;
            for (int i = start; i < Text.Length; i++)
            {
                depth += Text[i] switch { '(' => 1, ')' => -1, _ => 0 };
                if (depth == 0)
                {
                    return Text[start..(i + 1)];
                }
            }

            throw new InvalidOperationException("unbalanced CIL");
        }

        [GeneratedRegex(@"\(allow (\S+) (\S+) \((\S+) \(([^()]*)\)\)\)")]
        private static partial Regex AllowRule();
    }

    /// <summary>
    /// A throw-away copy of a full policy store: the system's own (RHEL targeted, Debian default) when one exists,
    /// otherwise one built from refpolicy modules (GREYD_SELINUX_POLICY_MODULES or /usr/share/selinux/default).
    /// Everything happens under a temporary root with semodule -p, so the system store is never touched.
    /// </summary>
    private sealed class PolicyStore : IDisposable
    {
        private const string ModulesVariable = "GREYD_SELINUX_POLICY_MODULES";

        private readonly string root;
        private readonly string name;
        private readonly string semodule;

        private PolicyStore(string root, string name, string semodule, string origin)
        {
            this.root = root;
            this.name = name;
            this.semodule = semodule;
            Origin = origin;
        }

        public string Origin { get; }

        public string PolicyFile =>
            Directory.GetFiles(Path.Combine(root, "etc/selinux", name, "policy"), "policy.*").Order(StringComparer.Ordinal).LastOrDefault()
            ?? throw new InvalidOperationException("semodule wrote no policy.NN");

        public string FileContexts => Path.Combine(root, "etc/selinux", name, "contexts/files/file_contexts");

        public static PolicyStore Create(ITestOutputHelper output)
        {
            string semodule = Tools.Require("semodule", "semodule (Debian and RHEL: policycoreutils)");
            string root = Directory.CreateTempSubdirectory("greyd-selinux-store-").FullName;
            try
            {
                return Create(output, semodule, root);
            }
            catch
            {
                Directory.Delete(root, recursive: true);
                throw;
            }
        }

        private static PolicyStore Create(ITestOutputHelper output, string semodule, string root)
        {
            var clock = Stopwatch.StartNew();

            string? modules = Environment.GetEnvironmentVariable(ModulesVariable);
            if (string.IsNullOrEmpty(modules))
            {
                foreach (string storeName in new[] { "targeted", "default" })
                {
                    string active = Path.Combine("/var/lib/selinux", storeName, "active", "modules");
                    string etc = Path.Combine("/etc/selinux", storeName);
                    if (Directory.Exists(active) && Directory.Exists(etc))
                    {
                        CopyDirectory(Path.Combine("/var/lib/selinux", storeName), Path.Combine(root, "var/lib/selinux", storeName));
                        CopyDirectory(etc, Path.Combine(root, "etc/selinux", storeName));
                        output.WriteLine($"copied the system store '{storeName}' in {clock.Elapsed.TotalSeconds:F1} s");
                        return new PolicyStore(root, storeName, semodule, $"a copy of /var/lib/selinux/{storeName}");
                    }
                }

                modules = "/usr/share/selinux/default";
            }

            string[] packages = Directory.Exists(modules)
                ? Directory.GetFiles(modules).Where(f => f.EndsWith(".pp", StringComparison.Ordinal) || f.EndsWith(".pp.bz2", StringComparison.Ordinal)).ToArray()
                : [];
            if (!packages.Any(p => Path.GetFileName(p).StartsWith("base.pp", StringComparison.Ordinal)))
            {
                Assert.Fail(
                    "no full SELinux policy to link greyd.pp against: install selinux-policy-default (Debian, modules in " +
                    "/usr/share/selinux/default) or selinux-policy-targeted (RHEL, store in /var/lib/selinux/targeted), " +
                    $"or set {ModulesVariable} to a directory holding refpolicy's base.pp(.bz2) and module .pp(.bz2) files");
            }

            Directory.CreateDirectory(Path.Combine(root, "var/lib/selinux"));
            string etcSource = "/etc/selinux/default";
            string etcTarget = Path.Combine(root, "etc/selinux/default");
            string shipped = Path.GetFullPath(Path.Combine(modules!, "../../../../etc/selinux/default"));
            CopyDirectory(Directory.Exists(shipped) ? shipped : etcSource, etcTarget, optional: true);

            var r = Tools.Run(semodule, ["-p", root, "-X", "100", "-n", "-s", "default", "-i", .. packages], TimeSpan.FromMinutes(3));
            if (r.ExitCode != 0)
            {
                Assert.Fail($"building a policy store from {packages.Length} modules in {modules} failed:\n{r.All}");
            }

            output.WriteLine($"built a store from {packages.Length} modules in {modules} in {clock.Elapsed.TotalSeconds:F1} s");
            return new PolicyStore(root, "default", semodule, $"{packages.Length} modules in {modules}");
        }

        public void Install(string package)
        {
            var r = Tools.Run(semodule, ["-p", root, "-n", "-s", name, "-X", "400", "-i", package], TimeSpan.FromMinutes(3));
            Assert.True(r.ExitCode == 0, $"greyd.pp does not link into the full policy ({Origin}):\n{r.All}");
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private static void CopyDirectory(string from, string to, bool optional = false)
        {
            if (!Directory.Exists(from))
            {
                Assert.True(optional, $"{from} is missing");
                Directory.CreateDirectory(to);
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            var r = Tools.Run(Tools.Require("cp", "coreutils"), ["-a", from, to], TimeSpan.FromMinutes(2));
            Assert.True(r.ExitCode == 0, $"cp -a {from} {to} failed:\n{r.All}");
        }
    }

    private static class Tools
    {
        public static string Require(string tool, string package)
        {
            if (Path.IsPathRooted(tool))
            {
                return File.Exists(tool) ? tool : throw Missing(tool, package);
            }

            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
            {
                string candidate = Path.Combine(dir, tool);
                if (dir.Length > 0 && File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw Missing(tool, package);
        }

        public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null)
        {
            var info = new ProcessStartInfo(file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            };
            foreach (string a in args)
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{file} {string.Join(' ', info.ArgumentList.Take(8))} did not finish within {timeout.TotalSeconds} s");
            }

            process.WaitForExit();
            return new Result(process.ExitCode, stdout.Result, stderr.Result);
        }

        private static Exception Missing(string tool, string package) =>
            new Xunit.Sdk.XunitException($"{tool} not found: install {package}. The SELinux module tests need the distribution's policy tools and never skip.");
    }

    private sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string All => StdOut + StdErr;
    }
}
