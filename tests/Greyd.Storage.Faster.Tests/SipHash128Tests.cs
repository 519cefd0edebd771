namespace Greyd.Storage.Faster.Tests;

/// <summary>SipHash-2-4-128 against the reference vectors (key 00..0f, message 00..n-1) of the SipHash authors.</summary>
public class SipHash128Tests
{
    [Theory]
    [InlineData(0, "a3817f04ba25a8e66df67214c7550293")]
    [InlineData(1, "da87c1d86b99af44347659119b22fc45")]
    [InlineData(7, "a1f1ebbed8dbc153c0b84aa61ff08239")]
    [InlineData(8, "3b62a9ba6258f5610f83e264f31497b4")]
    [InlineData(15, "5493e99933b0a8117e08ec0f97cfc3d9")]
    [InlineData(16, "6ee2a4ca67b054bbfd3315bf85230577")]
    [InlineData(63, "5150d1772f50834a503e069a973fbd7c")]
    public void Matches_the_reference_vectors(int length, string expected)
    {
        byte[] key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        byte[] message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var (lo, hi) = SipHash128.Hash(key, message);
        byte[] digest = new byte[16];
        BitConverter.TryWriteBytes(digest.AsSpan(0, 8), lo);
        BitConverter.TryWriteBytes(digest.AsSpan(8), hi);
        Assert.Equal(expected, Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void A_different_key_gives_a_different_digest()
    {
        byte[] message = "t192.0.2/alice@example.net/bob@example.org"u8.ToArray();
        byte[] key = new byte[16];
        var first = SipHash128.Hash(key, message);
        key[15] = 1;
        Assert.NotEqual(first, SipHash128.Hash(key, message));
    }
}
