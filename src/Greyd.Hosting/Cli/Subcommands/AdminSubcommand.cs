using System.Text.Json;
using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>
/// A subcommand answered by the running daemon over its admin socket: the common options (--admin-socket, --json),
/// the connection, and printing the answer as JSON or as text.
/// </summary>
public abstract class AdminSubcommand : ISubcommand
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public abstract string Usage { get; }

    /// <summary>The options this subcommand takes with a value, besides --admin-socket.</summary>
    protected abstract IReadOnlyCollection<string> ValueOptions { get; }

    /// <summary>The flags this subcommand takes, besides --json.</summary>
    protected virtual IReadOnlyCollection<string> Flags => [];

    public async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken)
    {
        var parsed = SubcommandArguments.Parse(args, [.. ValueOptions, "admin-socket"], [.. Flags, "json"]);
        Validate(parsed);
        await using var client = await AdminClient.ConnectAsync(parsed.Get("admin-socket") ?? AdminServer.DefaultPath, cancellationToken).ConfigureAwait(false);
        return await RunAsync(parsed, client, output, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks the arguments before connecting; throws <see cref="SubcommandUsageException"/>.</summary>
    protected virtual void Validate(SubcommandArguments args)
    {
        if (args.Words.Count > 0)
        {
            throw new SubcommandUsageException($"unexpected argument: {args.Words[0]}");
        }
    }

    protected abstract Task<int> RunAsync(SubcommandArguments args, AdminClient client, TextWriter output, CancellationToken cancellationToken);

    /// <summary>Sends this command's request; with --json prints the answer and returns null, else returns it for the text form.</summary>
    protected async Task<JsonDocument?> AskAsync(SubcommandArguments args, AdminClient client, Action<Utf8JsonWriter> write, TextWriter output, CancellationToken cancellationToken)
    {
        var answer = await client.RequestAsync(Name, write, cancellationToken).ConfigureAwait(false);
        if (!args.Has("json"))
        {
            return answer;
        }

        using (answer)
        {
            WriteJson(answer, output);
        }

        return null;
    }

    /// <summary>Copies options into request fields: <c>--client-address</c> becomes <c>client_address</c>.</summary>
    protected static void CopyOptions(SubcommandArguments args, Utf8JsonWriter request, params string[] names)
    {
        foreach (string name in names)
        {
            if (args.Get(name) is { } value)
            {
                request.WriteString(name.Replace('-', '_'), value);
            }
        }
    }

    /// <summary>The answer as indented JSON, for scripts (--json).</summary>
    protected static void WriteJson(JsonDocument answer, TextWriter output)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            answer.RootElement.WriteTo(writer);
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>A Unix time as people read it, in UTC.</summary>
    protected static string Time(long unix) =>
        DateTimeOffset.FromUnixTimeSeconds(unix).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    protected static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;

    protected static long Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}
