using System.Runtime.InteropServices;

namespace Greyd.Hosting.Native;

/// <summary>The few libc calls .NET does not wrap: privilege dropping and C-locale local time formatting.</summary>
internal static unsafe partial class Libc
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct Tm
    {
        public int Sec, Min, Hour, MDay, Mon, Year, WDay, YDay, IsDst;
        public long GmtOff;
        public nint Zone;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Passwd
    {
        public nint Name, Passwd_;
        public uint Uid, Gid;
        public nint Gecos, Dir, Shell;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Group
    {
        public nint Name, Passwd_;
        public uint Gid;
        public nint Members;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct RLimit
    {
        public ulong Current, Maximum;
    }

    private const int RLimitNoFile = 7;

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, RLimit* limit);

    /// <summary>Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force (<c>ulong.MaxValue</c> when unlimited or unknown).</summary>
    internal static ulong RaiseNoFileLimit()
    {
        RLimit limit;
        if (GetRLimit(RLimitNoFile, &limit) != 0)
        {
            return ulong.MaxValue;
        }

        if (limit.Current < limit.Maximum)
        {
            var raised = new RLimit { Current = limit.Maximum, Maximum = limit.Maximum };
            if (SetRLimit(RLimitNoFile, &raised) == 0)
            {
                return raised.Current;
            }
        }

        return limit.Current;
    }

    [LibraryImport("libc", EntryPoint = "tzset")]
    internal static partial void TzSet();

    [LibraryImport("libc", EntryPoint = "localtime_r")]
    internal static partial Tm* LocalTime(long* time, Tm* result);

    [LibraryImport("libc", EntryPoint = "strftime")]
    internal static partial nuint StrFTime(byte* buffer, nuint max, byte* format, Tm* tm);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEUid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    internal static partial uint GetEGid();

    [LibraryImport("libc", EntryPoint = "getpwuid")]
    internal static partial Passwd* GetPwUid(uint uid);

    [LibraryImport("libc", EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int GetGroupList(string user, uint group, uint* groups, int* count);

    [LibraryImport("libc", EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial Passwd* GetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial Group* GetGrNam(string name);

    [LibraryImport("libc", EntryPoint = "initgroups", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int InitGroups(string user, uint group);

    [LibraryImport("libc", EntryPoint = "setgroups", SetLastError = true)]
    internal static partial int SetGroups(nuint size, uint* list);

    [LibraryImport("libc", EntryPoint = "setgid", SetLastError = true)]
    internal static partial int SetGid(uint gid);

    [LibraryImport("libc", EntryPoint = "setuid", SetLastError = true)]
    internal static partial int SetUid(uint uid);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint RealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    internal static partial void Free(nint pointer);

    /// <summary>The path with every symbolic link resolved, or null when it does not exist.</summary>
    internal static string? ResolvePath(string path)
    {
        nint resolved = RealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int LChown(string path, uint uid, uint gid);
}
