namespace Greyd.Storage.Faster.Tests;

/// <summary>CRC-32 (IEEE): the standard check value, and the bitwise definition on every length a journal record spans.</summary>
public class Crc32Tests
{
    [Fact]
    public void Gives_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Equals_the_bitwise_definition_for_every_length_up_to_64()
    {
        var random = new Random(99);
        for (int length = 0; length <= 64; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Bitwise(data), Crc32.Compute(data));
        }
    }

    private static uint Bitwise(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
