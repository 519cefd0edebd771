using Greyd.Policy;

namespace Greyd.Hosting.Import;

/// <summary>
/// The reading half of an import: postgrey's triplets and AWL clients, from its Berkeley DB files or from
/// <c>db_dump</c> text (told apart by their first bytes), turned into greyd's records under greyd's options.
/// Records stream one by one; <see cref="Summary"/> is complete once they have all been enumerated.
/// </summary>
public sealed class PostgreyImport
{
    private readonly GreylistOptions _options;
    private readonly long _now;
    private readonly PostgreyKeyConverter _converter;

    /// <param name="options">greyd's options: keys and expiry follow them.</param>
    /// <param name="now">The import time in Unix seconds: records expired then are counted, not returned.</param>
    /// <param name="postgreyIPv4Cidr">postgrey's --ipv4cidr, for stored networks written without a prefix length.</param>
    /// <param name="postgreyIPv6Cidr">postgrey's --ipv6cidr, likewise.</param>
    public PostgreyImport(GreylistOptions options, long now, int postgreyIPv4Cidr = 24, int postgreyIPv6Cidr = 64)
    {
        _options = options;
        _now = now;
        _converter = new PostgreyKeyConverter(options, postgreyIPv4Cidr, postgreyIPv6Cidr);
    }

    public ImportSummary Summary { get; } = new();

    /// <summary>What the file holds, by its first bytes; throws when it is neither kind.</summary>
    public static PostgreyInputKind Detect(string path)
    {
        using var file = File.OpenRead(path);
        return Detect(file, path);
    }

    /// <summary>What a seekable stream holds, by its first bytes; the stream is left at its start.</summary>
    public static PostgreyInputKind Detect(Stream input, string name)
    {
        Span<byte> head = stackalloc byte[16];
        input.Position = 0;
        int n = input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        input.Position = 0;
        if (BerkeleyDbReader.HasMagic(head[..n]))
        {
            return PostgreyInputKind.BerkeleyDb;
        }

        if (head[..n].StartsWith("VERSION="u8))
        {
            return PostgreyInputKind.DbDump;
        }

        throw new PostgreyImportException($"{name} is neither a Berkeley DB file nor db_dump text");
    }

    /// <summary>The triplets of <paramref name="tripletsPath"/>, then the AWL clients of <paramref name="clientsPath"/>.</summary>
    public IEnumerable<ImportRecord> Read(string tripletsPath, string? clientsPath = null)
    {
        using (var triplets = File.OpenRead(tripletsPath))
        {
            foreach (var record in ReadTriplets(triplets, tripletsPath))
            {
                yield return record;
            }
        }

        if (clientsPath is null)
        {
            yield break;
        }

        using var clients = File.OpenRead(clientsPath);
        foreach (var record in ReadClients(clients, clientsPath))
        {
            yield return record;
        }
    }

    /// <summary>The triplets of postgrey.db or its dump; a stream that cannot seek must be a dump.</summary>
    public IEnumerable<ImportRecord> ReadTriplets(Stream input, string name) => Convert(Entries(input, name), false, name);

    /// <summary>The AWL clients of postgrey_clients.db or its dump; a stream that cannot seek must be a dump.</summary>
    public IEnumerable<ImportRecord> ReadClients(Stream input, string name) => Convert(Entries(input, name), true, name);

    private static IEnumerable<PostgreyEntry> Entries(Stream input, string name) =>
        input.CanSeek && Detect(input, name) == PostgreyInputKind.BerkeleyDb
            ? new BerkeleyDbReader(input, name).ReadEntries()
            : new DbDumpReader(input, name).ReadEntries();

    private IEnumerable<ImportRecord> Convert(IEnumerable<PostgreyEntry> entries, bool isClient, string name)
    {
        var counts = isClient ? Summary.Clients : Summary.Triplets;
        bool first = true;
        foreach (var entry in entries)
        {
            counts.Read++;
            if (first)
            {
                CheckKind(entry, isClient, name);
                first = false;
            }

            if (entry.IsDuplicate)
            {
                Summary.Skip(counts, ImportSkipReason.Duplicate, entry, null);
                continue;
            }

            if (!PostgreyValue.TryParse(entry.Value, out long a, out long b))
            {
                Summary.Skip(counts, ImportSkipReason.MalformedValue, entry, null);
                continue;
            }

            var conversion = isClient ? _converter.ConvertClient(entry.Key) : _converter.ConvertTriplet(entry.Key);
            if (conversion.Key is not { } key)
            {
                Summary.Skip(counts, conversion.Reason, entry, conversion.Detail);
                continue;
            }

            bool expired = isClient
                ? AutoWhitelist.IsExpired(new ClientRecord(a, b), _now, _options)
                : TripletMath.IsExpired(new TripletRecord(a, b), _now, _options);
            if (expired)
            {
                counts.Expired++;
                continue;
            }

            counts.Converted++;
            if (conversion.IsPrivacyKey)
            {
                Summary.PrivacyKeys++;
            }

            yield return new ImportRecord(isClient, key, a, b);
        }
    }

    /// <summary>Refuses the other database given in place of this one, told by its first key.</summary>
    private static void CheckKind(PostgreyEntry entry, bool isClient, string name)
    {
        bool tripletKey = entry.Key.AsSpan().IndexOf((byte)'/') >= 0;
        if (isClient && tripletKey)
        {
            throw new PostgreyImportException($"{name} holds triplets (postgrey.db), not AWL clients");
        }

        if (!isClient && !tripletKey && ClientAddress.TryParse(entry.Key, out _))
        {
            throw new PostgreyImportException($"{name} holds AWL clients (postgrey_clients.db), not triplets");
        }
    }
}
