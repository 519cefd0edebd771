namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>
/// A subcommand's arguments: <c>--name=value</c> or <c>--name value</c> options, <c>--flag</c>s and bare words,
/// checked against what the subcommand takes so a typo is an error, not a silently broader query.
/// </summary>
public sealed class SubcommandArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private SubcommandArguments()
    {
    }

    public List<string> Words { get; } = [];

    /// <summary>Parses; throws <see cref="SubcommandUsageException"/> for an unknown option or a missing value.</summary>
    public static SubcommandArguments Parse(IEnumerable<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        var result = new SubcommandArguments();
        using var items = args.GetEnumerator();
        while (items.MoveNext())
        {
            string arg = items.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                result.Words.Add(arg);
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg[2..] : arg[2..equals];
            if (flags.Contains(name))
            {
                if (equals >= 0)
                {
                    throw new SubcommandUsageException($"--{name} takes no value");
                }

                result._flags.Add(name);
            }
            else if (valueOptions.Contains(name))
            {
                string? value = equals >= 0 ? arg[(equals + 1)..] : items.MoveNext() ? items.Current : null;
                result._values[name] = value ?? throw new SubcommandUsageException($"--{name} needs a value");
            }
            else
            {
                throw new SubcommandUsageException($"unknown option: --{name}");
            }
        }

        return result;
    }

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public bool Has(string flag) => _flags.Contains(flag);
}
