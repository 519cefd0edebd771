using FASTER.core;
using Greyd.Policy;

namespace Greyd.Storage.Faster;

/// <summary>
/// A listing in progress: how far its scan of the log has got, and the keys it has listed whose record moved to
/// the tail since (an update copying it out of the read-only region, a delete), so the scan does not list them
/// again when it reaches the tail. Only touched under the store's lock.
/// </summary>
internal sealed class StoreListing(long now, long wall, GreylistOptions options) : IDisposable
{
    public long Now { get; } = now;

    /// <summary>When the listing began (<see cref="Environment.TickCount64"/>).</summary>
    public long Began { get; } = Environment.TickCount64;

    /// <summary>The log address up to which every record has been looked at.</summary>
    public long Cursor { get; set; }

    /// <summary>The scan from the cursor to the tail as it was when the scan began; null between scans.</summary>
    public IFasterScanIterator<StoreKey, StoreValue>? Scan { get; set; }

    /// <summary>Keys listed from behind the cursor whose record then moved ahead of it.</summary>
    public HashSet<StoreKey> Moved { get; } = [];

    /// <summary>True when the record is one to list: undamaged and unexpired.</summary>
    public bool Lists(in StoreKey key, in StoreValue value) =>
        value.IsValid(key, Math.Max(wall, Now)) && !new StoreEntry(key.IsClient, null, value.A, value.B).IsExpired(Now, options);

    /// <summary>
    /// Called when the latest record of <paramref name="key"/>, at <paramref name="address"/>, is replaced by one at
    /// the tail. Behind the cursor it was the latest when the scan passed it, so it was listed if it qualified.
    /// </summary>
    public void Replaced(in StoreKey key, long address, in StoreValue value)
    {
        if (address < Cursor && Lists(key, value))
        {
            Moved.Add(key);
        }
    }

    /// <summary>Ends the current scan; the next starts at the cursor.</summary>
    public void EndScan()
    {
        Scan?.Dispose();
        Scan = null;
    }

    public void Dispose() => EndScan();
}
