using Greyd.Tests.Shared;

namespace Greyd.Storage.Redis.Tests;

/// <summary>The admin contract on greyd's local store in front of a real Redis, each test under a prefix of its own.</summary>
public sealed class SharedStoreAdminContractTests(RedisServer redis) : StoreAdminContract, IClassFixture<RedisServer>
{
    protected override async Task<IGreylistStore> OpenAsync()
    {
        var store = new SharedGreylistStore(new InMemoryGreylistStore(Options), redis.Store($"admin{Guid.NewGuid():N}:", Options), TimeSpan.FromSeconds(5), new TestLog());
        await store.StartAsync(TimeSpan.FromSeconds(10));
        Assert.True(store.IsUp);
        return store;
    }
}
