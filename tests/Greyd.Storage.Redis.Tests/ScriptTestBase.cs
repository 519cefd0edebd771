using System.Text;
using Greyd.Policy;

namespace Greyd.Storage.Redis.Tests;

/// <summary>What the script tests share: a private redis-server, short greylisting times, and stores on that server.</summary>
public abstract class ScriptTestBase(RedisServer redis) : IClassFixture<RedisServer>
{
    protected static readonly GreylistOptions Options = new() { Delay = 60, RetryWindow = 600, MaxAgeDays = 1, AutoWhitelistClients = 2 };

    protected RedisServer Redis => redis;

    protected Task<RedisSharedStore> ConnectAsync(string prefix) => redis.ConnectStoreAsync(prefix, Options);

    protected static ReadOnlyMemory<byte> Bytes(string text) => Encoding.ASCII.GetBytes(text);
}
