namespace Greyd.Storage;

/// <summary>Severity of a store event, mapped by the host onto syslog priorities.</summary>
public enum StoreLogLevel
{
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
}
