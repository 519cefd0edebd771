namespace Greyd.Storage.Redis.Tests;

public class RedisStoreOptionsTests
{
    [Theory]
    [InlineData("redis://10.0.0.5", "10.0.0.5", 6379, 0, null, null, false, "redis://10.0.0.5:6379/0")]
    [InlineData("redis://redis.example.org:6380/3", "redis.example.org", 6380, 3, null, null, false, "redis://redis.example.org:6380/3")]
    [InlineData("redis://:s3cret@10.0.0.5/1", "10.0.0.5", 6379, 1, null, "s3cret", false, "redis://10.0.0.5:6379/1")]
    [InlineData("redis://greyd:p%40ss%3Aword@10.0.0.5/", "10.0.0.5", 6379, 0, "greyd", "p@ss:word", false, "redis://greyd@10.0.0.5:6379/0")]
    [InlineData("rediss://greyd@[2001:db8::5]:6390/2", "2001:db8::5", 6390, 2, "greyd", null, true, "rediss://greyd@[2001:db8::5]:6390/2")]
    public void Parses_store_urls_and_names_them_without_the_password(string url, string host, int port, int database, string? user, string? password, bool tls, string name)
    {
        var options = RedisStoreOptions.Parse(url);
        Assert.Equal((host, port, database, user, password, tls), (options.Host, options.Port, options.Database, options.User, options.Password, options.Tls));
        Assert.Equal(name, options.Name);
        Assert.Equal(name, options.ToString());
    }

    [Theory]
    [InlineData("10.0.0.5:6379", "must be redis://")]
    [InlineData("http://10.0.0.5", "must be redis://")]
    [InlineData("redis://:hunter2@10.0.0.5/x", "the database must be a number")]
    [InlineData("redis://10.0.0.5/0?ssl=true", "not after '?'")]
    public void Rejects_bad_urls_with_a_message_that_never_shows_the_password(string url, string message)
    {
        var e = Assert.Throws<FormatException>(() => RedisStoreOptions.Parse(url));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }
}
