using Greyd.Policy;

namespace Greyd.Storage;

/// <summary>One request's store work on a <see cref="IRecordStore"/>, in postgrey's order.</summary>
public static class RecordStoreRequests
{
    public static async ValueTask<RequestObservation> ObserveAsync(
        IRecordStore store, ReadOnlyMemory<byte> clientKey, ReadOnlyMemory<byte> tripletKey, long now, GreylistOptions options)
    {
        bool awl = !clientKey.IsEmpty && options.AutoWhitelistClients > 0;
        if (awl && await store.CheckClientAsync(clientKey.Span, now).ConfigureAwait(false))
        {
            return RequestObservation.Whitelisted;
        }

        var triplet = await store.ObserveTripletAsync(tripletKey.Span, now).ConfigureAwait(false);
        long count = 0;
        if (awl && GreylistPolicy.Decide(triplet, now, options).CountsForAutoWhitelist)
        {
            count = await store.CountClientAsync(clientKey.Span, now).ConfigureAwait(false);
        }

        return new RequestObservation(false, triplet, count);
    }
}
