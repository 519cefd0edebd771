namespace Greyd.Policy;

/// <summary>What greyd keeps per auto-whitelist client: counted passes and when the last one was counted.</summary>
public readonly record struct ClientRecord(long Count, long LastSeen);
