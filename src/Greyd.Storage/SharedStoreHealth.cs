namespace Greyd.Storage;

/// <summary>The shared store's part of greyd's status.</summary>
/// <param name="Name">Its address, without the password.</param>
/// <param name="Up">True while greyd greylists from it; false while it answers from the local store.</param>
/// <param name="Failures">Calls that failed or timed out since the start.</param>
/// <param name="DownSince">When the current outage began, or null while it is up.</param>
public readonly record struct SharedStoreHealth(string Name, bool Up, long Failures, DateTimeOffset? DownSince);
