using Greyd.Hosting.Logging;

namespace Greyd.Hosting.Tests;

/// <summary>The escaper against the plain byte-by-byte rule it must equal, on random values and destination sizes.</summary>
public class LogEscaperTests
{
    [Theory]
    [InlineData("alice@example.net", "alice@example.net")]
    [InlineData("50%\r\nforged: line", "50%%%0D%0Aforged: line")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("", "")]
    public void EscapesLikePostgrey(string value, string expected)
    {
        byte[] input = System.Text.Encoding.UTF8.GetBytes(value);
        byte[] output = new byte[input.Length * 3];
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(output, 0, LogEscaper.Escape(input, output)));
    }

    [Fact]
    public void EqualsTheByteByByteRuleOnRandomValuesAndSizes()
    {
        var random = new Random(1234);
        for (int round = 0; round < 20_000; round++)
        {
            byte[] value = new byte[random.Next(0, 80)];
            for (int i = 0; i < value.Length; i++)
            {
                // Mostly printable text with some '%', control and high bytes, as hostile clients send.
                value[i] = random.Next(10) switch
                {
                    0 => (byte)'%',
                    1 => (byte)random.Next(0, 0x20),
                    2 => (byte)random.Next(0x7f, 0x100),
                    _ => (byte)random.Next(0x20, 0x7f),
                };
            }

            bool doublePercent = random.Next(2) == 0;
            int size = random.Next(0, (value.Length * 3) + 4);
            byte[] expected = new byte[size];
            byte[] actual = new byte[size];
            int expectedLength = Reference(value, expected, doublePercent);
            int actualLength = LogEscaper.Escape(value, actual, doublePercent);
            Assert.Equal(expected.AsSpan(0, expectedLength).ToArray(), actual.AsSpan(0, actualLength).ToArray());
        }
    }

    private static int Reference(ReadOnlySpan<byte> value, Span<byte> destination, bool doublePercent)
    {
        const string Hex = "0123456789ABCDEF";
        int n = 0;
        foreach (byte b in value)
        {
            if (n + 3 > destination.Length)
            {
                break;
            }

            if (b == '%' && doublePercent)
            {
                destination[n++] = (byte)'%';
                destination[n++] = (byte)'%';
            }
            else if (b is >= 0x20 and <= 0x7e)
            {
                destination[n++] = b;
            }
            else
            {
                destination[n++] = (byte)'%';
                destination[n++] = (byte)Hex[b >> 4];
                destination[n++] = (byte)Hex[b & 0xf];
            }
        }

        return n;
    }
}
