using Greyd.Storage;
using Greyd.Tests.Shared;

namespace Greyd.Policy.Tests;

/// <summary>The admin contract on the store greyd falls back to when its directory cannot be used.</summary>
public sealed class InMemoryStoreAdminTests : StoreAdminContract
{
    protected override Task<IGreylistStore> OpenAsync() => Task.FromResult<IGreylistStore>(new InMemoryGreylistStore(Options));
}
