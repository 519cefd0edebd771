using System.Runtime.CompilerServices;

namespace Greyd.PackagingTests;

/// <summary>Finds the repository from this source file, so the tests work wherever their binaries are built.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot([CallerFilePath] string source = "")
    {
        var dir = new DirectoryInfo(System.IO.Path.GetDirectoryName(source)!);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "AotGrey.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("the repository root (AotGrey.sln) was not found above " + source);
    }
}
