namespace Greyd.Hosting.Import;

/// <summary>What an import file holds, told by its first bytes.</summary>
public enum PostgreyInputKind
{
    /// <summary>A Berkeley DB file (postgrey.db, postgrey_clients.db).</summary>
    BerkeleyDb,

    /// <summary>The text of <c>db_dump</c> or <c>db_dump -p</c>.</summary>
    DbDump,
}
