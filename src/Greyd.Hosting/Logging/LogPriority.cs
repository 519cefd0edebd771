namespace Greyd.Hosting.Logging;

/// <summary>syslog priorities, written as the <c>&lt;N&gt;</c> prefix that journald and systemd understand.</summary>
public enum LogPriority
{
    Critical = 2,
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}
