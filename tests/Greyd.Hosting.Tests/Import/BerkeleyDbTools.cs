using System.Diagnostics;
using System.Text;

namespace Greyd.Hosting.Tests.Import;

/// <summary>
/// Berkeley DB's own db_load and db_dump (Debian package db-util, EL libdb-utils), to write real database files and
/// to read them as postgrey's users would. A missing tool fails the test; it never skips.
/// </summary>
internal static class BerkeleyDbTools
{
    public const string DbLoad = "/usr/bin/db_load";
    public const string DbDump = "/usr/bin/db_dump";

    /// <summary>Writes a database file from dump text with db_load; <paramref name="options"/> go first (-c name=value, -t type).</summary>
    public static void Load(string dumpText, string databasePath, params string[] options)
    {
        string dumpPath = databasePath + ".load";
        File.WriteAllText(dumpPath, dumpText, Encoding.Latin1);
        Run(Require(DbLoad), [.. options, "-f", dumpPath, databasePath]);
        File.Delete(dumpPath);
    }

    /// <summary>db_dump's text of a standalone database file: format=print with <paramref name="print"/>, else bytevalue.</summary>
    public static byte[] Dump(string databasePath, bool print) =>
        Run(Require(DbDump), print ? ["-p", databasePath] : [databasePath]);

    public static string Require(string path)
    {
        if (!File.Exists(path))
        {
            Assert.Fail($"{path} is missing: these tests need Berkeley DB's tools (apt-get install db-util; dnf install libdb-utils).");
        }

        return path;
    }

    /// <summary>Runs a command to its end within a minute and returns its standard output; fails the test on a non-zero exit.</summary>
    public static byte[] Run(string executable, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {executable}");
        var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            Assert.Fail($"{executable} {string.Join(' ', info.ArgumentList)} did not finish within 60 s; killed it.");
        }

        copy.Wait();
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{executable} {string.Join(' ', info.ArgumentList)} exited with {process.ExitCode}:\n{stderr.Result}");
        }

        return stdout.ToArray();
    }
}
