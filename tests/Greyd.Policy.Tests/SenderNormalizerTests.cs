using System.Text;

namespace Greyd.Policy.Tests;

public class SenderNormalizerTests
{
    private static string Normalize(string sender)
    {
        byte[] input = Encoding.UTF8.GetBytes(sender);
        var destination = new byte[input.Length];
        int n = SenderNormalizer.Normalize(input, destination);
        return Encoding.UTF8.GetString(destination, 0, n);
    }

    // Section 2.3's verified table and M01; Normalize does not lower-case (the key builder does), so the table's
    // expected values are compared after ASCII lower-casing.
    [Theory]
    [MemberData(nameof(SenderVectors.Verified), MemberType = typeof(SenderVectors))]
    [InlineData("bounce-789-1@lists.example", "bounce-#-#@lists.example")]
    [InlineData("noatsign123", "noatsign123")]
    public void NormalizeMatchesTheVerifiedTable(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender).ToLowerInvariant());
    }

    [Theory]
    [InlineData("Alice+news@EXAMPLE.net", "Alice@EXAMPLE.net")]
    [InlineData("Bounce-12@Lists.Example", "Bounce-#@Lists.Example")]
    [InlineData("123@456.example", "#@456.example")]
    [InlineData("a-1@b-2.example", "a-#@b-2.example")]
    public void NormalizeLeavesCaseAndTheDomainAlone(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender));
    }

    [Theory]
    [InlineData("_123@x", "_123@x")]
    [InlineData("123_@x", "123_@x")]
    [InlineData("a123b@x", "a123b@x")]
    [InlineData("1-2-3@x", "#-#-#@x")]
    [InlineData("12ab34@x", "12ab34@x")]
    [InlineData("ab.12.cd@x", "ab.#.cd@x")]
    [InlineData("9@x", "#@x")]
    [InlineData("bob-tag-99@x", "bob-tag-#@x")]
    public void NormalizeReplacesOnlyDigitRunsBetweenWordBoundaries(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender));
    }

    [Fact]
    public void NormalizeTreatsNonAsciiBytesAsNonWordCharacters()
    {
        // V17g: "é123" in UTF-8 becomes the bytes C3 A9 '#'.
        byte[] input = Encoding.UTF8.GetBytes("é123@example.com");
        var destination = new byte[input.Length];
        int n = SenderNormalizer.Normalize(input, destination);
        Assert.Equal([0xC3, 0xA9, (byte)'#', .. "@example.com"u8.ToArray()], destination[..n]);
    }

    [Theory]
    [InlineData("prvs=1234567890=carl=@example.net", "carl@example.net")]
    [InlineData("prvs=a=b==@example.net", "b@example.net")]
    [InlineData("prvs==carl@example.net", "carl@example.net")]
    [InlineData("prvs=a==b@example.net", "prvs=a==b@example.net")]
    [InlineData("prvs=1234567890=@example.net", "prvs=#=@example.net")]
    [InlineData("prvs=x@example.net", "prvs=x@example.net")]
    [InlineData("prvs=@example.net", "prvs=@example.net")]
    [InlineData("prvs==@example.net", "prvs==@example.net")]
    [InlineData("prvs===@example.net", "prvs===@example.net")]
    public void NormalizeCountsBatvFieldsLikePerlSplitDroppingTrailingEmptyFields(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender));
    }

    [Theory]
    [InlineData("PRVS=1234567890=carl@example.net", "PRVS=#=carl@example.net")]
    [InlineData("prvs=0123456789=abcdefghij@example.net", "abcdefghij@example.net")]
    [InlineData("prvs=abcdefghi=123456789@example.net", "#@example.net")]
    [InlineData("prvs=abcdefghijXYZ=bob@example.net", "bob@example.net")]
    [InlineData("prvs=ABCDEFGHIJ=0123456789@example.net", "ABCDEFGHIJ@example.net")]
    public void NormalizeDecidesTheBatvTagByTheFirstTenLowerCaseCharacters(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender));
    }

    [Theory]
    [InlineData("@example.com", "@example.com")]
    [InlineData("user@", "user@")]
    [InlineData("+tag@example.com", "@example.com")]
    [InlineData("a+b+c@d+e", "a@d+e")]
    public void NormalizeSplitsAtTheFirstAtSign(string sender, string expected)
    {
        Assert.Equal(expected, Normalize(sender));
    }
}
