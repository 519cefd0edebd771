using System.Text.Json;

namespace Greyd.Hosting.Admin;

/// <summary>
/// One command of the admin socket, run inside the daemon. A request is one JSON object whose "command" names
/// the command; the answer is one JSON object, to which the server adds "ok". Throw <see cref="AdminException"/>
/// for a refusal the user should read.
/// </summary>
public interface IAdminCommand
{
    /// <summary>The "command" value this answers, e.g. "list".</summary>
    string Name { get; }

    /// <summary>Runs one request and writes the answer's properties into the open object <paramref name="response"/>.</summary>
    ValueTask ExecuteAsync(JsonElement request, Utf8JsonWriter response, CancellationToken cancellationToken);
}
