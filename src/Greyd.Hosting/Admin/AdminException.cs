namespace Greyd.Hosting.Admin;

/// <summary>A refusal with a message for the user (bad arguments, nothing found); the daemon goes on.</summary>
public sealed class AdminException : Exception
{
    public AdminException()
    {
    }

    public AdminException(string message)
        : base(message)
    {
    }

    public AdminException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
