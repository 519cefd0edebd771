using Microsoft.Win32.SafeHandles;

namespace Greyd.Storage.Faster;

/// <summary>
/// The catalogue as one listing reads it: every digest it names, sorted, with where its key lies in the file (16
/// bytes and 8 a name in memory, not the names); a key is read from the file when its record is listed.
/// </summary>
internal sealed class CatalogueNames : IDisposable
{
    private readonly KeyCatalogue _catalogue;
    private readonly SafeFileHandle _handle;
    private readonly byte[] _secret;
    private readonly UInt128[] _digests;
    private readonly long[] _places;
    private readonly Dictionary<UInt128, long> _later = [];
    private long _end;
    private long _length;

    public CatalogueNames(KeyCatalogue catalogue, SafeFileHandle handle, byte[] secret)
    {
        _catalogue = catalogue;
        _handle = handle;
        _secret = secret;
        var digests = new List<UInt128>();
        var places = new List<long>();
        _length = RandomAccess.GetLength(handle);
        _end = Read(0, (digest, place) =>
        {
            digests.Add(digest);
            places.Add(place);
        });
        _digests = [.. digests];
        _places = [.. places];
        Array.Sort(_digests, _places);
    }

    /// <summary>The key of the record with digest <paramref name="key"/>, or null when the catalogue does not name it.</summary>
    public byte[]? Find(in StoreKey key)
    {
        var digest = KeyCatalogue.Number(key);
        int i = Array.BinarySearch(_digests, digest);
        long place = i >= 0 ? _places[i] : _later.GetValueOrDefault(digest, -1);
        if (place < 0)
        {
            return null;
        }

        byte[] name = new byte[(int)(place & 0xFFFF)];
        try
        {
            return RandomAccess.Read(_handle, name, place >> 16) == name.Length ? name : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Reads the names written since this listing began (records created meanwhile), if there are any.</summary>
    public void Refresh()
    {
        _catalogue.Flush();
        try
        {
            long length = RandomAccess.GetLength(_handle);
            if (length > _length)
            {
                _length = length;
                _end = Read(_end, (digest, place) => _later[digest] = place);
            }
        }
        catch (IOException)
        {
        }
    }

    public void Dispose() => _handle.Dispose();

    // Hands each good entry from `from` on to `add` (digest, key offset << 16 | key length); returns where reading stopped.
    private long Read(long from, Action<UInt128, long> add)
    {
        long end = from;
        foreach (var (position, domain, key) in KeyCatalogue.Entries(_handle, from))
        {
            add(KeyCatalogue.Digest(_secret, domain, key.Span), ((position + KeyCatalogue.Header) << 16) | (long)key.Length);
            end = position + KeyCatalogue.Overhead + key.Length;
        }

        return end;
    }
}
