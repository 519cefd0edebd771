using System.Globalization;
using System.Security.Cryptography;

namespace Greyd.Storage.Faster;

/// <summary>
/// The store directory's layout and the file operations on it that need no FASTER instance: the secret, moving
/// damaged state aside, and deleting through DIR/trash so a crash never leaves half-deleted state behind.
/// </summary>
internal sealed class StoreDirectory(string root, RateLimitedLog faults)
{
    public const string SecretFile = "secret";

    /// <summary>The HMAC-SHA256 key length of stores made by greyd 0.1, still read and used as it is.</summary>
    public const int LegacySecretSize = 32;
    public const string JournalDir = "journal";
    public const string CheckpointDir = "checkpoints";
    public const string LogDir = "log";
    public const string TrashDir = "trash";
    public const string IndexCheckpoints = "index-checkpoints";
    public const string LogCheckpoints = "cpr-checkpoints";

    private readonly RateLimitedLog _faults = faults;

    public string Root { get; } = root;

    /// <summary>Creates the store's directories (mode 0700) if missing.</summary>
    public void CreateLayout()
    {
        CreateDirectory(Root);
        CreateDirectory(Path.Combine(Root, JournalDir));
        CreateDirectory(Path.Combine(Root, CheckpointDir));
        CreateDirectory(Path.Combine(Root, LogDir));
    }

    /// <summary>
    /// The key of the record digests, or null when there is none yet; a wrong length is reported as damage. Its
    /// length names the digest: 16 bytes SipHash-2-4-128, 32 bytes HMAC-SHA256 (stores made by greyd 0.1).
    /// </summary>
    public byte[]? LoadSecret(out string? damage)
    {
        damage = null;
        string path = Path.Combine(Root, SecretFile);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] secret = File.ReadAllBytes(path);
        if (secret.Length is not (SipHash128.KeySize or LegacySecretSize))
        {
            damage = string.Create(CultureInfo.InvariantCulture, $"{path} has {secret.Length} bytes instead of {SipHash128.KeySize}");
            return null;
        }

        return secret;
    }

    /// <summary>A new random SipHash key for the record digests, written atomically with mode 0600.</summary>
    public byte[] CreateSecret()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(SipHash128.KeySize);
        DurableFile.Write(Path.Combine(Root, SecretFile), secret);
        return secret;
    }

    /// <summary>Moves damaged state into DIR/corrupt-&lt;UTC&gt; (never deletes it) and recreates empty directories.</summary>
    public string MoveAside(bool includeJournal)
    {
        string stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string aside = Path.Combine(Root, "corrupt-" + stamp);
        for (int i = 1; Directory.Exists(aside); i++)
        {
            aside = Path.Combine(Root, string.Create(CultureInfo.InvariantCulture, $"corrupt-{stamp}-{i}"));
        }

        CreateDirectory(aside);
        var names = new List<string> { CheckpointDir, LogDir, Manifest.FileName };
        if (includeJournal)
        {
            names.Add(JournalDir);
            names.Add(SecretFile);
        }

        foreach (string name in names)
        {
            string from = Path.Combine(Root, name);
            string to = Path.Combine(aside, name);
            if (Directory.Exists(from))
            {
                Directory.Move(from, to);
            }
            else if (File.Exists(from))
            {
                File.Move(from, to);
            }
        }

        CreateDirectory(Path.Combine(Root, CheckpointDir));
        CreateDirectory(Path.Combine(Root, LogDir));
        CreateDirectory(Path.Combine(Root, JournalDir));
        Native.SyncDirectory(Root);
        return aside;
    }

    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }


    /// <summary>
    /// Renames unwanted checkpoint directories into DIR/trash first (atomic), so a crash never leaves a
    /// half-deleted checkpoint where FASTER could find it.
    /// </summary>
    public void TrashCheckpoints(string kind, HashSet<Guid> keep)
    {
        string trash = Path.Combine(Root, TrashDir);
        string parent = Path.Combine(Root, CheckpointDir, kind);
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (string path in Directory.EnumerateDirectories(parent))
        {
            string name = Path.GetFileName(path);
            if (Guid.TryParse(name, out var token) && keep.Contains(token))
            {
                continue;
            }

            CreateDirectory(trash);
            Directory.Move(path, Path.Combine(trash, kind + "-" + name + "-" + Guid.NewGuid().ToString("N")));
        }
    }

    public void TrashLogFiles()
    {
        string log = Path.Combine(Root, LogDir);
        string trash = Path.Combine(Root, TrashDir);
        foreach (string path in Directory.EnumerateFiles(log))
        {
            CreateDirectory(trash);
            File.Move(path, Path.Combine(trash, Path.GetFileName(path) + "-" + Guid.NewGuid().ToString("N")));
        }

        EmptyTrash();
    }

    public void EmptyTrash()
    {
        string trash = Path.Combine(Root, TrashDir);
        try
        {
            if (Directory.Exists(trash))
            {
                Directory.Delete(trash, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _faults.Write($"store: cannot empty {trash}: {e.Message}");
        }
    }
}
