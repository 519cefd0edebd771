using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Greyd.Hosting.Native;

namespace Greyd.Hosting.Admin;

/// <summary>
/// Who is on the other end of an admin connection (SO_PEERCRED), and whether they may use the socket: root,
/// greyd's own user, or a member of the admin group. The socket's file mode already says so; this holds even
/// if someone loosens that mode.
/// </summary>
public readonly record struct AdminPeer(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>Reads the peer's credentials from a connected unix socket.</summary>
    public static AdminPeer Of(Socket socket)
    {
        Span<byte> credentials = stackalloc byte[12];
        socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
        return new AdminPeer(
            BinaryPrimitives.ReadInt32LittleEndian(credentials),
            BinaryPrimitives.ReadUInt32LittleEndian(credentials[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(credentials[8..]));
    }

    /// <summary>True for root, greyd's own user, or a user whose primary or supplementary group is <paramref name="adminGid"/>.</summary>
    public bool MayAdminister(uint adminGid) =>
        Uid == 0 || Uid == Libc.GetEUid() || Gid == adminGid || IsMember(Uid, Gid, adminGid);

    private static unsafe bool IsMember(uint uid, uint gid, uint adminGid)
    {
        var pw = Libc.GetPwUid(uid);
        if (pw == null || Marshal.PtrToStringUTF8(pw->Name) is not { } name)
        {
            return false;
        }

        int count = 64;
        uint[] groups = new uint[count];
        fixed (uint* list = groups)
        {
            if (Libc.GetGroupList(name, gid, list, &count) < 0)
            {
                // More groups than the buffer: count now holds how many; ask again.
                groups = new uint[count];
                fixed (uint* again = groups)
                {
                    if (Libc.GetGroupList(name, gid, again, &count) < 0)
                    {
                        return false;
                    }
                }
            }
        }

        return groups.AsSpan(0, Math.Min(count, groups.Length)).Contains(adminGid);
    }
}
