using System.Reflection;

namespace Greyd.IntegrationTests.Harness;

/// <summary>Finds the published greyd binary: $GREYD_BINARY, else &lt;repo&gt;/artifacts/greyd/greyd.</summary>
public static class GreydBinary
{
    private const string SolutionFile = "AotGrey.sln";

    /// <summary>The binary's path; fails the calling test with a clear message when it does not exist.</summary>
    public static string Path
    {
        get
        {
            string? fromEnvironment = Environment.GetEnvironmentVariable("GREYD_BINARY");
            if (!string.IsNullOrEmpty(fromEnvironment))
            {
                if (!File.Exists(fromEnvironment))
                {
                    Assert.Fail($"GREYD_BINARY is set to '{fromEnvironment}', but no such file exists.");
                }

                return fromEnvironment;
            }

            var tried = new List<string>();
            foreach (string start in StartDirectories())
            {
                string? root = FindRepositoryRoot(start);
                if (root is null)
                {
                    tried.Add($"{start} (no {SolutionFile} above it)");
                    continue;
                }

                string candidate = System.IO.Path.Combine(root, "artifacts", "greyd", "greyd");
                if (File.Exists(candidate))
                {
                    return candidate;
                }

                tried.Add(candidate);
            }

            Assert.Fail(
                "The greyd binary was not found. Build it with `cd <repo> && ./build.sh publish` (or `dotnet publish src/Greyd -c Release " +
                "-o artifacts/greyd`), or point GREYD_BINARY at it. Looked at: " + string.Join("; ", tried));
            return null!;
        }
    }

    public static string? RepositoryRoot => StartDirectories().Select(FindRepositoryRoot).FirstOrDefault(r => r is not null);

    private static IEnumerable<string> StartDirectories()
    {
        yield return AppContext.BaseDirectory;
        string? recorded = typeof(GreydBinary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "GreydRepositoryRoot")?.Value;
        if (!string.IsNullOrEmpty(recorded))
        {
            yield return recorded;
        }

        yield return Environment.CurrentDirectory;
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
