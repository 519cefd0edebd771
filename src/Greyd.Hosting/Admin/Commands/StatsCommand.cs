using System.Text.Json;
using Greyd.Hosting.Cli;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Admin.Commands;

/// <summary><c>greyd stats</c>: what the store holds (counted, not estimated), the store's health and the daemon's counters.</summary>
public sealed class StatsCommand(AdminContext context) : IAdminCommand
{
    public string Name => "stats";

    public async ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken)
    {
        long now = context.Now;
        var options = context.Options;
        long passed = 0, waiting = 0, awl = 0, counting = 0;
        if (context.Store is IStoreAdmin admin)
        {
            await foreach (var entry in admin.EnumerateAsync(now, cancellationToken).ConfigureAwait(false))
            {
                if (!entry.IsClient)
                {
                    _ = entry.Triplet.HasPassed(options.Delay) ? passed++ : waiting++;
                }
                else
                {
                    _ = options.AutoWhitelistClients > 0 && entry.A >= options.AutoWhitelistClients ? awl++ : counting++;
                }
            }
        }

        var health = context.Store is IStoreHealth h ? h.GetHealth() : new StoreHealth("unknown", 0, 0, 0, null, 0, 0, Degraded: false);
        response.WriteString("version", GreydCommandLine.Version);
        response.WriteNumber("uptime", (long)context.Started.Elapsed.TotalSeconds);
        response.WriteNumber("now", now);
        response.WriteString("store", health.Mode);
        response.WriteString("state", health.Mode == "memory" ? "memory-only" : health.Degraded || health.Shared is { Up: false } ? "degraded" : "ok");
        response.WriteNumber("triplets", passed + waiting);
        response.WriteNumber("triplets_passed", passed);
        response.WriteNumber("triplets_waiting", waiting);
        response.WriteNumber("awl_clients", awl);
        response.WriteNumber("awl_counting", counting);
        response.WriteNumber("store_bytes", health.DiskBytes);
        if (health.LastCheckpoint is { } checkpoint)
        {
            response.WriteNumber("last_checkpoint", checkpoint.ToUnixTimeSeconds());
        }

        response.WriteNumber("checkpoint_errors", health.CheckpointErrors);
        response.WriteNumber("store_errors", health.WriteErrors);
        response.WriteNumber("failed_requests", context.Service.FaultCount);
        response.WriteNumber("connections", context.Server.ActiveConnections);
        if (health.Shared is { } shared)
        {
            response.WriteString("shared_store", shared.Name);
            response.WriteBoolean("shared_store_up", shared.Up);
            response.WriteNumber("shared_store_failures", shared.Failures);
        }

        response.WriteStartObject("settings");
        OptionsJson.Write(response, options);
        response.WriteEndObject();
    }
}
