using System.Diagnostics;
using Greyd.Hosting.Cli;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Hosting.Whitelists;
using Greyd.Policy;
using Greyd.Storage;

namespace Greyd.Hosting.Admin;

/// <summary>What the admin commands work on: the running daemon's settings, store, whitelists and counters.</summary>
public sealed class AdminContext(
    GreydSettings settings,
    IGreylistStore store,
    WhitelistHolder whitelists,
    AdminWhitelist adminWhitelist,
    PolicyService service,
    PolicyServer server,
    GreydLog log,
    TimeProvider clock,
    Stopwatch started,
    SenderPools.SenderPoolChecker? pools = null)
{
    /// <summary>The SPF check of --spf-pools, or null when it is off.</summary>
    public SenderPools.SenderPoolChecker? Pools { get; } = pools;

    public GreydSettings Settings { get; } = settings;

    public GreylistOptions Options => Settings.Greylist;

    public IGreylistStore Store { get; } = store;

    public WhitelistHolder Whitelists { get; } = whitelists;

    public AdminWhitelist AdminWhitelist { get; } = adminWhitelist;

    public PolicyService Service { get; } = service;

    public PolicyServer Server { get; } = server;

    public GreydLog Log { get; } = log;

    public Stopwatch Started { get; } = started;

    /// <summary>The time admin commands judge records by: the same clock requests use.</summary>
    public long Now => clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>The store's admin side, or a refusal when this store has none.</summary>
    public IStoreAdmin StoreAdmin => Store as IStoreAdmin ?? throw new AdminException("this store cannot be inspected");
}
