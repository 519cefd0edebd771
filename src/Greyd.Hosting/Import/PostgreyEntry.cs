namespace Greyd.Hosting.Import;

/// <summary>One key and value as postgrey stored them, raw bytes.</summary>
/// <param name="Key">The key bytes, without a trailing NUL.</param>
/// <param name="Value">The value bytes; empty for an off-page duplicate set, whose values are not read.</param>
/// <param name="Location">Where it was read, for messages: <c>postgrey.dump line 7</c>, <c>postgrey.db page 3</c>.</param>
/// <param name="IsDuplicate">A second value of a key already read (a duplicate set); postgrey never writes one.</param>
public readonly record struct PostgreyEntry(byte[] Key, byte[] Value, string Location, bool IsDuplicate = false);
