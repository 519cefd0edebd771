using System.Globalization;
using System.Text;

namespace Greyd.IntegrationTests.Harness;

/// <summary>
/// An immutable policy request, by default postgrey-behaviour.md §8.1's request D:
/// request, policy_test_time=T0+t, client_name, client_address, sender, recipient (in that order).
/// </summary>
public sealed class PolicyRequest
{
    public const long T0 = 1700000000;

    private readonly List<KeyValuePair<string, string>> _attributes;

    private PolicyRequest(List<KeyValuePair<string, string>> attributes)
    {
        _attributes = attributes;
    }

    /// <summary>Request D at T0 + <paramref name="t"/> seconds.</summary>
    public static PolicyRequest D(long t) => DWithoutTime().With("policy_test_time", (T0 + t).ToString(CultureInfo.InvariantCulture));

    /// <summary>Request D without <c>policy_test_time</c> (for the real clock).</summary>
    public static PolicyRequest DWithoutTime() => new(
    [
        new("request", "smtpd_access_policy"),
        new("client_name", "mail.example.net"),
        new("client_address", "192.0.2.10"),
        new("sender", "alice@example.net"),
        new("recipient", "bob@example.org"),
    ]);

    public static PolicyRequest Empty() => new([]);

    public string? this[string name] => _attributes.LastOrDefault(a => a.Key == name).Value;

    /// <summary>Sets an attribute: replaces it in place if present (policy_test_time goes right after request), else appends.</summary>
    public PolicyRequest With(string name, string value)
    {
        var copy = _attributes.ToList();
        int index = copy.FindIndex(a => a.Key == name);
        if (index >= 0)
        {
            copy[index] = new(name, value);
        }
        else if (name == "policy_test_time" && copy.Count > 0 && copy[0].Key == "request")
        {
            copy.Insert(1, new(name, value));
        }
        else
        {
            copy.Add(new(name, value));
        }

        return new PolicyRequest(copy);
    }

    /// <summary>Appends an attribute line even if the name is already present (duplicates, raw lines).</summary>
    public PolicyRequest Append(string name, string value)
    {
        var copy = _attributes.ToList();
        copy.Add(new(name, value));
        return new PolicyRequest(copy);
    }

    public PolicyRequest Without(string name) => new(_attributes.Where(a => a.Key != name).ToList());

    /// <summary>Shorthand for With("policy_test_time", T0 + t).</summary>
    public PolicyRequest At(long t) => With("policy_test_time", (T0 + t).ToString(CultureInfo.InvariantCulture));

    /// <summary>The request's lines, each ended by <paramref name="lineEnd"/>, then the empty line.</summary>
    public string ToText(string lineEnd = "\n")
    {
        var text = new StringBuilder();
        foreach (var (name, value) in _attributes)
        {
            text.Append(name).Append('=').Append(value).Append(lineEnd);
        }

        return text.Append(lineEnd).ToString();
    }

    public byte[] ToBytes(string lineEnd = "\n") => Encoding.UTF8.GetBytes(ToText(lineEnd));

    public override string ToString() => GreydProcess.Visible(ToText());
}
