using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Greyd.FuzzTests;

/// <summary>
/// The coverage-guided campaign: AFL++ drives fuzz/Greyd.Fuzz (the same two targets) with the greyd assemblies
/// instrumented by SharpFuzz, both targets at once for GREYD_AFL_SECONDS (default 60 s). Fails on any saved crash
/// or hang (an input running over 10 s). Needs afl-fuzz on PATH and the sharpfuzz tool from the repository's
/// dotnet-tools.json (./build.sh deps installs both); without them it fails, unless GREYD_FUZZ_REQUIRE_AFL=0 says
/// this machine cannot have them.
/// </summary>
[Collection("fuzz campaigns")]
public class AflCampaignTests(ITestOutputHelper output)
{
    [Fact]
    public void Afl_finds_no_crash_or_hang_in_either_target()
    {
        string root = RepositoryRoot();
        string? afl = FindOnPath("afl-fuzz");
        bool haveSharpFuzz = Run("dotnet", ["tool", "run", "sharpfuzz", "--help"], root, TimeSpan.FromMinutes(2), out _) == 0;
        if (afl is null || !haveSharpFuzz)
        {
            string why = $"AFL++ campaign not run: afl-fuzz {(afl is null ? "missing" : "found")}, sharpfuzz tool {(haveSharpFuzz ? "found" : "missing")} (./build.sh deps installs them)";
            output.WriteLine(why);
            Console.Error.WriteLine(why);
            Assert.True(Environment.GetEnvironmentVariable("GREYD_FUZZ_REQUIRE_AFL") == "0", why);
            return;
        }

        int seconds = int.Parse(Environment.GetEnvironmentVariable("GREYD_AFL_SECONDS") ?? "60", CultureInfo.InvariantCulture);
        string work = Path.Combine(Path.GetTempPath(), "greyd-afl-" + Environment.ProcessId);
        string bin = Path.Combine(work, "bin");
        Directory.CreateDirectory(work);
        Assert.True(0 == Run("dotnet", ["publish", Path.Combine(root, "fuzz", "Greyd.Fuzz", "Greyd.Fuzz.csproj"), "-c", "Release", "-o", bin, "-nologo", "-v", "quiet"], root, TimeSpan.FromMinutes(5), out string published), published);
        foreach (string assembly in new[] { "Greyd.Protocol", "Greyd.Policy", "Greyd.Storage", "Greyd.Hosting" })
        {
            Assert.True(0 == Run("dotnet", ["tool", "run", "sharpfuzz", Path.Combine(bin, assembly + ".dll")], root, TimeSpan.FromMinutes(2), out string instrumented), instrumented);
        }

        var campaigns = new[] { "protocol", "whitelist" }.Select(target => Task.Run(() =>
        {
            string findings = Path.Combine(work, "out-" + target);
            int code = Run(afl, ["-V", seconds.ToString(CultureInfo.InvariantCulture), "-i", Path.Combine(AppContext.BaseDirectory, "corpus", target), "-o", findings,
                "-t", "10000", "-m", "none", "--", "dotnet", Path.Combine(bin, "Greyd.Fuzz.dll"), target], work, TimeSpan.FromSeconds(seconds + 180), out string log);
            return (Target: target, Code: code, Log: log, Findings: Path.Combine(findings, "default"));
        })).ToArray();
        Task.WaitAll(campaigns);

        var problems = new List<string>();
        foreach (var (target, code, log, findings) in campaigns.Select(t => t.Result))
        {
            string stats = File.Exists(Path.Combine(findings, "fuzzer_stats")) ? File.ReadAllText(Path.Combine(findings, "fuzzer_stats")) : string.Empty;
            string Stat(string name) => stats.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
            string summary = $"AFL++ {target}: {Stat("execs_done")} execs, {Stat("execs_per_sec")}/s, {Stat("edges_found")} edges, corpus {Stat("corpus_count")}";
            output.WriteLine(summary);
            Console.Error.WriteLine(summary);
            if (code != 0 || stats.Length == 0)
            {
                problems.Add($"afl-fuzz {target} exited {code}:\n{Tail(log)}");
                continue;
            }

            foreach (string kind in new[] { "crashes", "hangs" })
            {
                string dir = Path.Combine(findings, kind);
                var found = Directory.Exists(dir) ? Directory.GetFiles(dir).Where(f => !f.EndsWith("README.txt", StringComparison.Ordinal)).ToList() : [];
                if (found.Count > 0)
                {
                    problems.Add($"AFL++ {target}: {found.Count} {kind} saved in {dir}; first: {Convert.ToBase64String(File.ReadAllBytes(found[0]))}");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Directory.Delete(work, recursive: true);
    }

    private static string Tail(string text) => text.Length > 3000 ? text[^3000..] : text;

    private static int Run(string file, string[] arguments, string directory, TimeSpan timeout, out string log)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in new[] { ("AFL_SKIP_BIN_CHECK", "1"), ("AFL_SKIP_CPUFREQ", "1"), ("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1"), ("AFL_NO_UI", "1"), ("AFL_NO_AFFINITY", "1") })
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                log = $"timed out after {timeout}";
                return -1;
            }

            log = stdout.Result + stderr.Result;
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log = e.Message;
            return -1;
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static string RepositoryRoot()
    {
        string? built = typeof(AflCampaignTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        if (built is not null && File.Exists(Path.Combine(built, "AotGrey.sln")))
        {
            return built;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AotGrey.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AotGrey.sln not found above " + AppContext.BaseDirectory);
    }
}
