using System.Text;

namespace Greyd.Storage.Redis;

/// <summary>
/// A Lua script and its SHA-1, by which Redis names scripts: calls send the digest (EVALSHA), and the text only to
/// a server that has forgotten it (the client's own lookup by text hashed 2 KB per request).
/// </summary>
internal sealed class ServerScript(string text)
{
    public string Text { get; } = text;

#pragma warning disable CA5350 // Redis names scripts by their SHA-1; nothing here depends on its strength.
    public byte[] Hash { get; } = System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
}
