using System.Globalization;
using System.Text;
using Greyd.Storage.Faster;

namespace Greyd.Hosting.Reporting;

/// <summary>
/// One day of the ledger on disk, DIR/report/YYYY-MM-DD, ASCII text ending in a CRC:
/// <code>
/// greyd-report 1
/// day 2026-11-28
/// capped 0
/// example.net 12 9 8 3120 900 300:5 600:2 900:1
/// crc 1a2b3c4d
/// </code>
/// A domain line holds the key, greylisted, retried, passed, the sum and the maximum of the delays (seconds),
/// then the non-empty delay buckets as upper-bound:count ("inf" for the open one). Naming buckets by bound lets
/// a later greyd with other buckets read the file: each count moves to the bucket holding its bound.
/// </summary>
internal static class LedgerFile
{
    private const string Header = "greyd-report 1";

    // DateOnly's day number of 1970-01-01: ledger days count from the Unix epoch, like the request times.
    private static readonly int s_epoch = new DateOnly(1970, 1, 1).DayNumber;

    public static string NameOf(int day) => DateOf(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The day a file name stands for (also for names with a suffix, such as moved-aside files).</summary>
    public static bool TryParseName(string name, out int day)
    {
        day = 0;
        if (name.Length < 10 || !DateOnly.TryParseExact(name.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return false;
        }

        day = NumberOf(date);
        return true;
    }

    public static DateOnly DateOf(int day) => DateOnly.FromDayNumber(s_epoch + day);

    public static int NumberOf(DateOnly date) => date.DayNumber - s_epoch;

    public static void Write(string path, LedgerDay day)
    {
        var text = new StringBuilder();
        text.Append(Header).Append('\n');
        text.Append("day ").Append(NameOf(day.Day)).Append('\n');
        text.Append("capped ").Append(day.Capped ? '1' : '0').Append('\n');
        var domains = day.Domains.Select(d => (Key: Encoding.ASCII.GetString(d.Key), Counts: d.Value)).ToList();
        domains.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (key, counts) in domains)
        {
            text.Append(CultureInfo.InvariantCulture, $"{key} {counts.Greylisted} {counts.Retried} {counts.Passed} {counts.DelaySum} {counts.DelayMax}");
            var buckets = counts.Buckets;
            for (int i = 0; i < buckets.Length; i++)
            {
                if (buckets[i] != 0)
                {
                    string bound = DelayBuckets.BoundOf(i)?.ToString(CultureInfo.InvariantCulture) ?? "inf";
                    text.Append(CultureInfo.InvariantCulture, $" {bound}:{buckets[i]}");
                }
            }

            text.Append('\n');
        }

        byte[] body = Encoding.ASCII.GetBytes(text.ToString());
        byte[] crc = Encoding.ASCII.GetBytes("crc " + Crc32.Compute(body).ToString("x8", CultureInfo.InvariantCulture) + "\n");
        DurableFile.Write(path, [.. body, .. crc]);
    }

    /// <summary>Reads a day file; throws <see cref="InvalidDataException"/> naming the damage.</summary>
    public static LedgerDay Read(string path, int expectedDay, int cap)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int crcLine = bytes.AsSpan(0, Math.Max(0, bytes.Length - 1)).LastIndexOf((byte)'\n') + 1;
        if (bytes.Length == 0 || bytes[^1] != '\n' || !bytes.AsSpan(crcLine).StartsWith("crc "u8))
        {
            throw new InvalidDataException("truncated");
        }

        if (bytes.AsSpan().ContainsAnyExceptInRange((byte)0x0a, (byte)0x7e) || bytes.AsSpan().ContainsAnyInRange((byte)0x0b, (byte)0x1f))
        {
            throw new InvalidDataException("not ASCII text");
        }

        string crc = Encoding.ASCII.GetString(bytes, crcLine + 4, bytes.Length - crcLine - 5);
        if (crc != Crc32.Compute(bytes.AsSpan(0, crcLine)).ToString("x8", CultureInfo.InvariantCulture))
        {
            throw new InvalidDataException("checksum mismatch");
        }

        string[] lines = Encoding.ASCII.GetString(bytes, 0, crcLine).Split('\n');
        if (lines.Length < 4 || lines[0] != Header || lines[1] != "day " + NameOf(expectedDay) || lines[2] is not ("capped 0" or "capped 1"))
        {
            throw new InvalidDataException("not a greyd report file for " + NameOf(expectedDay));
        }

        var day = new LedgerDay(expectedDay, cap, loaded: true);
        if (lines[2] == "capped 1")
        {
            day.MarkCapped();
        }

        Span<long> buckets = stackalloc long[DelayBuckets.Count];
        foreach (string line in lines.AsSpan(3, lines.Length - 4))
        {
            string[] fields = line.Split(' ');
            if (fields.Length < 6 || !SenderDomain.IsValidKey(fields[0]))
            {
                throw new InvalidDataException("bad line: " + line[..Math.Min(line.Length, 80)]);
            }

            buckets.Clear();
            foreach (string bucket in fields.AsSpan(6))
            {
                int colon = bucket.IndexOf(':', StringComparison.Ordinal);
                long bound = colon > 0 && bucket[..colon] == "inf" ? long.MaxValue : Number(colon > 0 ? bucket[..colon] : string.Empty);
                buckets[DelayBuckets.IndexOf(bound)] += Number(bucket[(colon + 1)..]);
            }

            day.Counts(Encoding.ASCII.GetBytes(fields[0]))
                .Add(Number(fields[1]), Number(fields[2]), Number(fields[3]), Number(fields[4]), Number(fields[5]), buckets);
        }

        return day;
    }

    private static long Number(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new InvalidDataException("bad number: " + text[..Math.Min(text.Length, 20)]);
}
