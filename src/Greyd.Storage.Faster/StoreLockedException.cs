namespace Greyd.Storage.Faster;

/// <summary>Thrown when another greyd already owns the store directory.</summary>
public sealed class StoreLockedException : Exception
{
    public StoreLockedException()
    {
    }

    public StoreLockedException(string message)
        : base(message)
    {
    }

    public StoreLockedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The message names the directory and the lock file so an operator can find the other process.</summary>
    internal static StoreLockedException For(string directory, string lockPath) =>
        new($"store directory {directory} is in use by another greyd (lock {lockPath})");
}
