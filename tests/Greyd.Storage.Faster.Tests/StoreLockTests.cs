namespace Greyd.Storage.Faster.Tests;

public class StoreLockTests
{
    [Fact]
    public void A_second_lock_on_the_same_directory_is_refused_until_the_first_is_released()
    {
        using var dir = new TempDir();
        string store = dir.Sub("db");
        var first = StoreLock.Acquire(store);
        var refused = Assert.Throws<StoreLockedException>(() => StoreLock.Acquire(store));
        Assert.Equal($"store directory {store} is in use by another greyd (lock {store}/greyd.lock)", refused.Message);
        first.Dispose();
        using var again = StoreLock.Acquire(store);
    }

    [Fact]
    public void Acquiring_creates_the_directory_readable_only_by_greyd()
    {
        using var dir = new TempDir();
        string store = dir.Sub("new/db");
        using var held = StoreLock.Acquire(store);
        Assert.True(Directory.Exists(store));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store));
        }
    }
}
