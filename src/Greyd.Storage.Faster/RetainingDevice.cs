using FASTER.core;

namespace Greyd.Storage.Faster;

/// <summary>
/// The log device with truncation under greyd's control. FASTER deletes log segments below the new BeginAddress
/// as soon as a checkpoint after a compaction commits, before greyd's manifest stops naming the previous
/// generation, which still reads them; so FASTER's requests are ignored and greyd calls
/// <see cref="TruncateRetained"/> once no generation in the manifest needs the older segments.
/// </summary>
internal sealed class RetainingDevice(IDevice inner) : IDevice
{
    public uint SectorSize => inner.SectorSize;

    public string FileName => inner.FileName;

    public long Capacity => inner.Capacity;

    public long SegmentSize => inner.SegmentSize;

    public int StartSegment => inner.StartSegment;

    public int EndSegment => inner.EndSegment;

    public int ThrottleLimit
    {
        get => inner.ThrottleLimit;
        set => inner.ThrottleLimit = value;
    }

    /// <summary>Deletes the whole segments below <paramref name="address"/>; only for addresses no retained generation reads.</summary>
    public void TruncateRetained(long address) => inner.TruncateUntilAddress(address);

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false) =>
        inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool TryComplete() => inner.TryComplete();

    public bool Throttle() => inner.Throttle();

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    // FASTER's own truncations (after every checkpoint) are dropped: see the class comment.
    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => callback(result);

    public void TruncateUntilAddress(long toAddress)
    {
    }

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => callback(result);

    public void TruncateUntilSegment(int toSegment)
    {
    }

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);

    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);

    public long GetFileSize(int segment) => inner.GetFileSize(segment);

    public void Reset() => inner.Reset();

    public void Dispose() => inner.Dispose();
}
