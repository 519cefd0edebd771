using System.Text;
using System.Text.Json;
using Greyd.Hosting.Admin;
using Greyd.Hosting.Admin.Commands;

namespace Greyd.Hosting.Tests.Reporting;

public class ReportCommandTests : LedgerTestBase
{

    private async Task<string> RunAsync(ReportCommand command, string request)
    {
        using var document = JsonDocument.Parse(request);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            await command.ExecuteAsync(document.RootElement, json, CancellationToken.None);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public async Task TheAnswerHasStableFieldNamesAndSeconds()
    {
        var ledger = Open();
        Greylist(ledger, "a@example.net", D + 60);
        Greylist(ledger, "b@example.net", D + 60);
        Greylist(ledger, "c@other.org", D + 60);
        Pass(ledger, "a@example.net", D + 60, D + 360, firstRetry: true);
        var command = new ReportCommand(ledger);

        string answer = await RunAsync(command, """{"command":"report","since":"today","until":null,"domain":"EXAMPLE.net","top":1}""");

        Assert.Equal("report", command.Name);
        Assert.Equal(
            """{"since":"2026-11-10","until":"2026-11-10","domain":"example.net","retry_window":172800,"domains":1,"rows":[{"domain":"example.net","greylisted":2,"retried":1,"passed":1,"never_retried":0,"waiting":1,"pass_ratio":0.5,"delay_p50":300,"delay_p50_bound":false,"delay_p90":300,"delay_p90_bound":false,"delay_max":300,"delay_mean":300}],"total":{"greylisted":2,"retried":1,"passed":1,"never_retried":0,"waiting":1,"pass_ratio":0.5,"delay_p50":300,"delay_p50_bound":false,"delay_p90":300,"delay_p90_bound":false,"delay_max":300,"delay_mean":300},"domain_cap":100000,"capped_days":[],"report_capped":false}""",
            answer);
    }

    [Fact]
    public async Task WithoutFieldsTheReportCoversAWeekAndTheTopDomains()
    {
        var ledger = Open();
        for (int i = 0; i < 25; i++)
        {
            Greylist(ledger, $"x@d{i}.example", D - (7 * Day) + 60);
        }

        using var answer = JsonDocument.Parse(await RunAsync(new ReportCommand(ledger), """{"command":"report"}"""));

        var root = answer.RootElement;
        Assert.Equal("2026-11-03", root.GetProperty("since").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("domain").ValueKind);
        Assert.Equal(20, root.GetProperty("rows").GetArrayLength());
        Assert.Equal(25, root.GetProperty("domains").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("total").GetProperty("delay_p50").ValueKind);
    }

    [Theory]
    [InlineData("""{"top":-1}""", "top: expected a whole number, 0 for all")]
    [InlineData("""{"top":"5"}""", "top: expected a whole number, 0 for all")]
    [InlineData("""{"top":1.5}""", "top: expected a whole number, 0 for all")]
    [InlineData("""{"since":7}""", "since: expected a string")]
    [InlineData("""{"domain":["a"]}""", "domain: expected a string")]
    [InlineData("""{"until":"soon\u001b"}""", "until: expected a date (YYYY-MM-DD), today, or a time back from now (24h, 7d, 2w), not 'soon?'")]
    [InlineData("""{"since":"today","until":"2026-11-01"}""", "since: 2026-11-10 is after until 2026-11-01")]
    public async Task BadFieldsAreRefusedWithAMessageForTheUser(string request, string message)
    {
        var e = await Assert.ThrowsAsync<AdminException>(() => RunAsync(new ReportCommand(Open()), request));

        Assert.Equal(message, e.Message);
    }
}
