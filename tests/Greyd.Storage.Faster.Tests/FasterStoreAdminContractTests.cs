using Greyd.Tests.Shared;

namespace Greyd.Storage.Faster.Tests;

/// <summary>The admin contract on the persistent store, each test in a directory of its own.</summary>
public sealed class FasterStoreAdminContractTests : StoreAdminContract, IDisposable
{
    private readonly TempDir _dir = new();

    protected override Task<IGreylistStore> OpenAsync() => Task.FromResult<IGreylistStore>(Stores.Open(_dir.Path));

    public void Dispose() => _dir.Dispose();
}
