using System.Text.Json;
using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// <c>greyd delete</c>: forgets a triplet (by client address, sender and recipient, or by its key as <c>greyd list</c>
/// shows it) or a client's AWL record (by client address alone). The next mail for it starts over.
/// </summary>
public sealed class DeleteCommand(AdminContext context) : IAdminCommand
{
    public string Name => "delete";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        var store = context.StoreAdmin;
        string what;
        bool deleted;
        if (AdminRequest.String(request, "key") is { } text)
        {
            byte[] key = KeyText.Parse(text) ?? throw new AdminException($"bad escape in --key: {text}");
            deleted = await store.DeleteTripletAsync(key).ConfigureAwait(false);
            what = "triplet " + KeyText.Display(key);
        }
        else if (AdminRequest.String(request, "recipient") is not null || AdminRequest.String(request, "sender") is not null)
        {
            byte[] key = AdminRequest.TripletKey(request, context.Options);
            deleted = await store.DeleteTripletAsync(key).ConfigureAwait(false);
            what = "triplet " + KeyText.Display(key);
        }
        else
        {
            _ = AdminRequest.PolicyRequestOf(request, out var client);
            byte[] key = AdminRequest.ClientKey(client, context.Options);
            deleted = await store.DeleteClientAsync(key).ConfigureAwait(false);
            what = "AWL client " + KeyText.Display(key);
        }

        if (!deleted)
        {
            throw new AdminException($"no such {what}");
        }

        context.Log.Write(LogPriority.Notice, "deleted " + AdminLog.Clean(what));
        response.WriteString("message", what + " deleted");
    }
}
