using System.Runtime.InteropServices;
using Greyd.Hosting.Native;

namespace Greyd.Hosting.Server;

/// <summary>Drops root to <c>--user</c>/<c>--group</c> after binding, as postgrey does through Net::Server.</summary>
public static class Privileges
{
    public static bool IsRoot => Libc.GetEUid() == 0;

    /// <summary>Looks up the user and group; throws with a clear message when either does not exist.</summary>
    public static unsafe (uint Uid, uint Gid) Resolve(string user, string? group)
    {
        var pw = Libc.GetPwNam(user);
        if (pw == null)
        {
            throw new InvalidOperationException($"--user={user}: no such user");
        }

        uint uid = pw->Uid;
        uint gid = pw->Gid;
        if (group is not null)
        {
            var gr = Libc.GetGrNam(group);
            if (gr == null)
            {
                throw new InvalidOperationException($"--group={group}: no such group");
            }

            gid = gr->Gid;
        }

        return (uid, gid);
    }

    /// <summary>Gives <paramref name="path"/> (and, for a directory, what it holds) to the user greyd will run as.</summary>
    /// <summary>The id of a group, or an error naming the option it came from.</summary>
    public static unsafe uint ResolveGroup(string group, string option)
    {
        var gr = Libc.GetGrNam(group);
        return gr == null ? throw new InvalidOperationException($"{option}={group}: no such group") : gr->Gid;
    }

    public static void Chown(string path, uint uid, uint gid, bool recursive)
    {
        if (Libc.LChown(path, uid, gid) != 0)
        {
            throw new InvalidOperationException($"cannot change the owner of {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        if (recursive && Directory.Exists(path))
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
            {
                Libc.LChown(entry, uid, gid);
            }
        }
    }

    public static unsafe void Drop(string user, uint uid, uint gid)
    {
        if (Libc.InitGroups(user, gid) != 0 || Libc.SetGid(gid) != 0 || Libc.SetUid(uid) != 0)
        {
            throw new InvalidOperationException($"cannot switch to user {user}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }
}
