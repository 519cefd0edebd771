namespace Greyd.Hosting.Import;

/// <summary>A postgrey database or dump that cannot be read: the message names the file and the line or page.</summary>
public sealed class PostgreyImportException : Exception
{
    public PostgreyImportException()
    {
    }

    public PostgreyImportException(string message)
        : base(message)
    {
    }

    public PostgreyImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
