namespace Greyd.Storage.Faster;

/// <summary>Releases the maintenance lock once, so a test can copy the directory between checkpoints.</summary>
internal sealed class MaintenancePause(SemaphoreSlim maintenance) : IDisposable
{
    private int _released;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            maintenance.Release();
        }
    }
}
