using System.Globalization;
using System.Text.Json;
using Greyd.Hosting.Logging;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Admin.Commands;

/// <summary>
/// <c>greyd whitelist add|remove|list</c>. A client entry (address, network, host name or /regex/) goes into greyd's
/// own whitelist file, effective at once and kept across restarts. A triplet is stored as passed: its mail passes
/// from now on, and it expires like any passed triplet after --max-age without mail.
/// </summary>
public sealed class WhitelistCommand(AdminContext context) : IAdminCommand
{
    public string Name => "whitelist";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        string action = AdminRequest.String(request, "action") ?? "list";
        string? client = AdminRequest.String(request, "client");
        bool triplet = AdminRequest.String(request, "client_address") is not null;
        if (action != "list" && (client is null) == !triplet)
        {
            throw new AdminException("give either --client=ENTRY, or --client-address, --sender and --recipient for a triplet");
        }

        switch (action)
        {
            case "list":
                WriteEntries(response);
                break;
            case "add" when client is not null:
                string note = DateTimeOffset.FromUnixTimeSeconds(context.Now).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
                    + (AdminRequest.String(request, "comment") is { Length: > 0 } comment ? ": " + comment : string.Empty);
                bool added = context.AdminWhitelist.Add(client, note);
                context.Whitelists.Reload();
                Changed(response, added, $"client {client} {(added ? "added to" : "already in")} {context.AdminWhitelist.Path}");
                break;
            case "remove" when client is not null:
                if (!context.AdminWhitelist.Remove(client))
                {
                    throw new AdminException($"{client} is not in {context.AdminWhitelist.Path ?? "greyd's whitelist"} (entries of other whitelist files are removed by editing them)");
                }

                context.Whitelists.Reload();
                Changed(response, true, $"client {client} removed from {context.AdminWhitelist.Path}");
                break;
            case "add":
            {
                byte[] key = AdminRequest.TripletKey(request, context.Options);
                long now = context.Now;
                var outcome = await context.StoreAdmin.ImportTripletAsync(key, new TripletRecord(now - context.Options.Delay, now), now).ConfigureAwait(false);
                Changed(response, outcome != ImportOutcome.Kept, $"triplet {KeyText.Display(key)} {(outcome == ImportOutcome.Kept ? "had passed already" : "stored as passed")}");
                break;
            }

            case "remove":
            {
                byte[] key = AdminRequest.TripletKey(request, context.Options);
                bool deleted = await context.StoreAdmin.DeleteTripletAsync(key).ConfigureAwait(false);
                if (!deleted)
                {
                    throw new AdminException($"no such triplet: {KeyText.Display(key)}");
                }

                Changed(response, true, $"triplet {KeyText.Display(key)} deleted");
                break;
            }

            default:
                throw new AdminException("the action must be add, remove or list");
        }
    }

    private void WriteEntries(Utf8JsonWriter response)
    {
        response.WriteString("file", context.AdminWhitelist.Path);
        response.WriteStartArray("entries");
        foreach (var (line, entry, note) in context.AdminWhitelist.Entries())
        {
            response.WriteStartObject();
            response.WriteString("entry", entry);
            response.WriteNumber("line", line);
            response.WriteString("note", note);
            response.WriteEndObject();
        }

        response.WriteEndArray();
    }

    private void Changed(Utf8JsonWriter response, bool changed, string message)
    {
        if (changed)
        {
            context.Log.Write(LogPriority.Notice, "whitelist: " + AdminLog.Clean(message));
        }

        response.WriteBoolean("changed", changed);
        response.WriteString("message", message);
    }
}
