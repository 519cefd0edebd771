using Greyd.Hosting.Logging;
using Greyd.Storage.Faster;

namespace Greyd.Hosting;

/// <summary>
/// Taking the store lock when the store directory cannot be used at all (read-only, missing and not creatable,
/// out of space): greyd then greylists from memory rather than refusing to start and stopping mail.
/// Another greyd holding the lock is still fatal (<see cref="StoreLockedException"/>).
/// </summary>
internal static class StoreFallback
{
    public static StoreLock? TryLock(string directory, GreydLog log)
    {
        try
        {
            return StoreLock.Acquire(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write(LogPriority.Critical, $"cannot use the store in {directory}, greylisting from memory only (nothing will survive a restart): {e.Message}");
            return null;
        }
    }
}
