using System.Globalization;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// Store faults (a full disk, a read-only store, damaged files): greyd keeps answering, says so with one error line
/// per fault kind and a line when the fault has gone, reports it in the SIGUSR1 status line, and keeps what was
/// durable. The store is a size-limited tmpfs mounted on the test's own directory (needs root).
/// </summary>
public sealed class StoreFaultTests
{
    private const int SigUsr1 = 10;
    private static readonly string[] CountdownOptions = ["--allow-policy-test-time", "--greylist-text=wait %s", "--hostname=test.host"];

    private static string Wait(long seconds) => "action=DEFER_IF_PERMIT wait " + seconds.ToString(CultureInfo.InvariantCulture);

    private static PolicyRequest R(long t, string rcpt) => D(t).With("recipient", rcpt);

    /// <summary>Sends SIGUSR1 and returns the status line it logs.</summary>
    private static string Status(GreydInstance greyd)
    {
        int from = greyd.Process.StderrLineCount;
        Assert.True(Native.Signal(greyd.Process.Pid, SigUsr1), "SIGUSR1 could not be sent");
        return greyd.ExpectLog("status", l => l.StartsWith("<5>status: ", StringComparison.Ordinal), "a status line after SIGUSR1", from);
    }

    private static int Count(GreydInstance greyd, int from, string prefix) =>
        greyd.Process.StderrLinesFrom(from).Count(l => l.StartsWith(prefix, StringComparison.Ordinal));

    [Fact]
    public void A_full_disk_keeps_answers_logs_one_error_per_kind_and_checkpoints_resume_when_space_returns()
    {
        using var dir = new TempDir();
        using var disk = new TmpfsMount(dir.File("db"), "32m");
        var sent = new Dictionary<string, long>();
        using (var greyd = GreydInstance.StartIn(dir, [.. CountdownOptions, "--checkpoint-interval=1"]))
        {
            var client = greyd.Connect();
            for (int i = 0; i < 20; i++)
            {
                Step($"before: r{i} new", Wait(300), client.Ask(R(0, $"a{i}@example.org")));
                sent[$"a{i}@example.org"] = 0;
            }

            Assert.True(WaitForCheckpoint(greyd), "no checkpoint completed on the healthy store");

            int mark = greyd.Process.StderrLineCount;
            string filler = disk.Fill();
            // The journal reserves its disk space a window (2 MiB) ahead, so a full disk fails journal writes only
            // once that window is used up: keep answering until it is.
            int b = 0;
            while (!greyd.Process.TryWaitForLog(l => l.StartsWith("<3>store: journal write to ", StringComparison.Ordinal), TimeSpan.Zero, mark))
            {
                Assert.True(b < 200_000, "no journal write error after 200000 requests on a full disk");
                var batch = Enumerable.Range(b, 2000).Select(i => $"b{i}@example.org").ToList();
                var replies = AskMany(client, [.. batch.Select(rcpt => R(10, rcpt))]);
                for (int i = 0; i < batch.Count; i++)
                {
                    Step($"disk full: {batch[i]} answered normally", Wait(300), replies[i]);
                    sent[batch[i]] = 10;
                }

                b += batch.Count;
            }

            greyd.ExpectLog("journal error", l => l.StartsWith("<3>store: journal write to ", StringComparison.Ordinal) && l.Contains("No space left", StringComparison.Ordinal), "one journal write error", mark);
            greyd.ExpectLog("checkpoint error", l => l.StartsWith("<3>store: checkpoint postponed, ", StringComparison.Ordinal), "one checkpoint postponed error", mark);
            Thread.Sleep(2500); // two or three more checkpoint attempts and many journal writes fail meanwhile
            for (int i = 0; i < 50; i++)
            {
                Step($"disk still full: c{i}", Wait(300), client.Ask(R(12, $"c{i}@example.org")));
                sent[$"c{i}@example.org"] = 12;
            }

            Assert.Equal(1, Count(greyd, mark, "<3>store: journal write"));
            Assert.Equal(1, Count(greyd, mark, "<3>store: checkpoint"));
            string full = Status(greyd);
            Assert.Contains("state=degraded mode=faster", full, StringComparison.Ordinal);
            Assert.DoesNotContain("checkpoint-errors=0 ", full, StringComparison.Ordinal);

            File.Delete(filler);
            Step("space is back: d0", Wait(300), client.Ask(R(20, "d0@example.org")));
            sent["d0@example.org"] = 20;
            greyd.ExpectLog("journal recovery", l => l.StartsWith("<5>store: journal writes to ", StringComparison.Ordinal) && l.Contains("work again", StringComparison.Ordinal), "the journal recovery line", mark);
            greyd.ExpectLog("checkpoint recovery", l => l.StartsWith("<5>store: checkpoint completed again after ", StringComparison.Ordinal), "the checkpoint recovery line", mark);
            Assert.Contains("state=ok mode=faster", Status(greyd), StringComparison.Ordinal);

            // Everything answered, including while the journal could not be written, is durable now.
            greyd.Process.Kill9();
            greyd.Restart();
            var check = greyd.Connect();
            var all = sent.ToList();
            var answers = AskMany(check, [.. all.Select(s => R(30, s.Key))]);
            for (int i = 0; i < all.Count; i++)
            {
                Step($"after kill -9: {all[i].Key} (first seen at {all[i].Value}) is an early retry", Wait(300 - (30 - all[i].Value)), answers[i]);
            }

            Assert.Equal(0, greyd.Process.Stop());
            greyd.Process.AssertNoCrashTrace();
        }
    }

    // Pipelines requests in batches, as a busy Postfix does over several connections, and returns the replies in order.
    private static List<string> AskMany(PolicyClient client, IReadOnlyList<PolicyRequest> requests)
    {
        const int Batch = 200;
        var replies = new List<string>(requests.Count);
        for (int i = 0; i < requests.Count; i += Batch)
        {
            int n = Math.Min(Batch, requests.Count - i);
            client.Send([.. requests.Skip(i).Take(n).SelectMany(r => r.ToBytes())]);
            for (int j = 0; j < n; j++)
            {
                replies.Add(client.ReadReply());
            }
        }

        return replies;
    }

    private static bool WaitForCheckpoint(GreydInstance greyd)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (!Status(greyd).Contains("last-checkpoint=never", StringComparison.Ordinal))
            {
                return true;
            }

            Thread.Sleep(300);
        }

        return false;
    }

    [Fact]
    public void A_read_only_store_starts_greyd_from_memory_and_the_repaired_store_recovers_what_was_durable()
    {
        using var dir = new TempDir();
        using var disk = new TmpfsMount(dir.File("db"), "32m");
        using var greyd = GreydInstance.StartIn(dir, CountdownOptions);
        for (int i = 0; i < 5; i++)
        {
            Step($"healthy: r{i} new", Wait(300), greyd.AskOnce(R(0, $"r{i}@example.org")));
        }

        Assert.Equal(0, greyd.Process.Stop());
        disk.ReadOnly();
        greyd.Restart();
        greyd.ExpectLog("critical", l => l.StartsWith("<2>cannot use the store in ", StringComparison.Ordinal) && l.Contains("from memory only", StringComparison.Ordinal), "one critical line naming the store");
        Assert.Equal(1, Count(greyd, 0, "<2>"));
        Assert.Equal(0, Count(greyd, 0, "<3>"));
        Step("read-only: r0 is new to the memory store", Wait(300), greyd.AskOnce(R(10, "r0@example.org")));
        Step("read-only: an early retry from memory", Wait(290), greyd.AskOnce(R(20, "r0@example.org")));
        Assert.Contains("state=memory-only mode=memory triplets=1 ", Status(greyd), StringComparison.Ordinal);
        Assert.Equal(0, greyd.Process.Stop());

        disk.ReadWrite();
        greyd.Restart();
        Assert.Equal(0, Count(greyd, 0, "<2>"));
        for (int i = 0; i < 5; i++)
        {
            Step($"repaired: r{i} (first seen at 0) is an early retry", Wait(270), greyd.AskOnce(R(30, $"r{i}@example.org")));
        }

        Assert.Equal(0, greyd.Process.Stop());
    }

    [Fact]
    public void A_missing_store_directory_is_created_and_an_uncreatable_one_falls_back_to_memory()
    {
        using var dir = new TempDir();
        using var disk = new TmpfsMount(dir.File("ro"), "1m");
        disk.ReadOnly();
        string missing = dir.File("missing/store");
        using (var greyd = GreydInstance.StartIn(dir, [.. CountdownOptions, "--dbdir=" + missing]))
        {
            greyd.ExpectLog("new", l => l == "<5>store: new store in " + missing, "the new store line");
            Step("created: answered", Wait(300), greyd.AskOnce(R(0, "m@example.org")));
            Assert.Equal(0, greyd.Process.Stop());
        }

        using (var greyd = GreydInstance.StartIn(dir, [.. CountdownOptions, "--dbdir=" + Path.Combine(disk.Path, "store")]))
        {
            greyd.ExpectLog("critical", l => l.StartsWith("<2>cannot use the store in ", StringComparison.Ordinal), "the critical memory-only line");
            Step("uncreatable: answered from memory", Wait(300), greyd.AskOnce(R(0, "m@example.org")));
            Assert.Equal(0, greyd.Process.Stop());
        }
    }

    [Fact]
    public void Garbage_and_truncated_store_files_are_moved_aside_once_and_greyd_answers_and_starts_clean_next_time()
    {
        using var dir = new TempDir();
        using var greyd = GreydInstance.StartIn(dir, [.. CountdownOptions, "--checkpoint-interval=1"]);
        for (int i = 0; i < 5; i++)
        {
            Step($"healthy: r{i} new", Wait(300), greyd.AskOnce(R(0, $"r{i}@example.org")));
        }

        Assert.Equal(0, greyd.Process.Stop());
        string db = greyd.DbDir;
        File.WriteAllBytes(Path.Combine(db, "manifest"), [0x67, 0x61, 0x72, 0x62, 0xff, 0x00, 0x0a]);
        foreach (string segment in Directory.EnumerateFiles(Path.Combine(db, "log")))
        {
            using var file = new FileStream(segment, FileMode.Open, FileAccess.Write);
            file.SetLength(file.Length / 2);
        }

        foreach (string info in Directory.EnumerateFiles(Path.Combine(db, "checkpoints"), "*.dat", SearchOption.AllDirectories))
        {
            File.WriteAllBytes(info, new byte[17]);
        }

        greyd.Restart();
        greyd.ExpectLog("moved aside", l => l.StartsWith("<2>store: damaged store moved to ", StringComparison.Ordinal), "one critical line about the damaged store");
        Assert.Equal(1, Count(greyd, 0, "<2>"));
        Assert.Single(Directory.EnumerateDirectories(db, "corrupt-*"));
        Step("after the damage: answered", Wait(300), greyd.AskOnce(R(10, "new@example.org")));
        Assert.Contains("state=ok mode=faster", Status(greyd), StringComparison.Ordinal);
        Assert.Equal(0, greyd.Process.Stop());

        greyd.Restart();
        Assert.Equal(0, Count(greyd, 0, "<2>"));
        Step("the next start recovered the new store", Wait(290), greyd.AskOnce(R(20, "new@example.org")));
        Assert.Single(Directory.EnumerateDirectories(db, "corrupt-*"));
        Assert.Equal(0, greyd.Process.Stop());
    }
}
