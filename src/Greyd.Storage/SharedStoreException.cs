namespace Greyd.Storage;

/// <summary>The shared store could not answer; the message is short enough for one log line.</summary>
public sealed class SharedStoreException : Exception
{
    public SharedStoreException()
    {
    }

    public SharedStoreException(string message)
        : base(message)
    {
    }

    public SharedStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
