using System.Buffers;
using System.Text;

namespace Greyd.Policy;

/// <summary>
/// A reply text with postgrey's substitutions compiled once: each token is replaced at its first occurrence
/// only, in postgrey's order, and <c>%%</c> is not an escape.
/// </summary>
public sealed class ReplyTemplate
{
    private readonly byte[][] _literals;
    private readonly char[] _tokens;

    private ReplyTemplate(byte[][] literals, char[] tokens)
    {
        _literals = literals;
        _tokens = tokens;
    }

    /// <summary>The tokens that were found, in output order.</summary>
    public ReadOnlySpan<char> Tokens => _tokens;

    /// <summary>Compiles <paramref name="text"/>, replacing the first <c>%x</c> for each x of <paramref name="order"/> in turn.</summary>
    public static ReplyTemplate Compile(string text, string order)
    {
        // Mark each replaced token with a control character, which option values cannot contain.
        var s = text;
        foreach (char token in order)
        {
            int at = s.IndexOf("%" + token, StringComparison.Ordinal);
            if (at >= 0)
            {
                s = string.Concat(s.AsSpan(0, at), Marker(token).ToString(), s.AsSpan(at + 2));
            }
        }

        var literals = new List<byte[]>();
        var tokens = new List<char>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            int index = order.IndexOf(Unmark(s[i]), StringComparison.Ordinal);
            if (s[i] < (char)1 || s[i] > (char)8 || index < 0)
            {
                continue;
            }

            literals.Add(Encoding.UTF8.GetBytes(s[start..i]));
            tokens.Add(Unmark(s[i]));
            start = i + 1;
        }

        literals.Add(Encoding.UTF8.GetBytes(s[start..]));
        return new ReplyTemplate([.. literals], [.. tokens]);
    }

    private static char Marker(char token) => (char)(1 + "srtvdh".IndexOf(token, StringComparison.Ordinal));

    private static char Unmark(char c) => c is >= (char)1 and <= (char)6 ? "srtvdh"[c - 1] : '\0';

    /// <summary>True when the text starts with a digit (postgrey then adds no <c>4.2.0 </c>).</summary>
    public bool StartsWithDigit => _literals[0].Length > 0 && _literals[0][0] is >= (byte)'0' and <= (byte)'9';

    /// <summary>Writes the text, asking <paramref name="value"/> for each token.</summary>
    public void Write<TValues>(IBufferWriter<byte> output, TValues value)
        where TValues : ITemplateValues, allows ref struct
    {
        for (int i = 0; i < _tokens.Length; i++)
        {
            output.Write(_literals[i]);
            value.Write(_tokens[i], output);
        }

        output.Write(_literals[^1]);
    }
}
