namespace Greyd.IntegrationTests.Harness;

/// <summary>A fresh directory under /tmp (short, so unix socket paths stay under 108 bytes), removed on Dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "greyd-it-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates (if needed) and returns a subdirectory.</summary>
    public string Dir(string name)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes <paramref name="lines"/> (each ended by LF) to a file in this directory; returns its path.</summary>
    public string WriteFile(string name, params string[] lines)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
