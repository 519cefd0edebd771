using System.Diagnostics;
using Greyd.IntegrationTests.Harness;
using static Greyd.IntegrationTests.Harness.PolicyRequest;
using static Greyd.IntegrationTests.Harness.Replies;

namespace Greyd.IntegrationTests;

/// <summary>
/// postgrey-behaviour.md §1.4, §3.4 and O1-O3: reloading the whitelists on SIGHUP and when a file changes on disk.
/// greyd deviates on purpose where postgrey dies: a reload that finds a bad regex or an unreadable file keeps the
/// previous set (O2), and a bad regex at start-up is logged and skipped (O3).
/// </summary>
public sealed class WhitelistReloadTests
{
    private const string HupLine = "<4>HUP received: reloading whitelists...";
    private const string NotReloadedLine = "<3>whitelists not reloaded, the previous ones stay in force";
    private const string ChangedLine = "<5>whitelist file changed: reloading whitelists...";

    // A is whitelisted only by the old file, B only by the new one, Both by both, C by neither.
    private const string AddressA = "192.0.2.10";
    private const string AddressB = "198.51.100.2";
    private const string AddressBoth = "10.9.9.9";
    private const string AddressC = "203.0.113.3";

    private static PolicyRequest From(string address) => D(0).With("client_address", address).With("client_name", "unknown");

    private static string Loaded(string clients, int clientEntries, string recipients, int recipientEntries) =>
        $"<5>whitelists loaded: clients {clients} ({Entries(clientEntries)}); recipients {recipients} ({Entries(recipientEntries)})";

    private static string Entries(int n) => n == 1 ? "1 entry" : $"{n} entries";

    /// <summary>Replaces a file by rename, as careful editors and configuration tools do, so no reader sees half of it.</summary>
    private static void ReplaceAtomically(string path, params string[] lines)
    {
        string temporary = path + ".new";
        File.WriteAllText(temporary, string.Concat(lines.Select(l => l + "\n")));
        File.Move(temporary, path, overwrite: true);
    }

    [Fact]
    public void O1_after_an_edit_and_a_HUP_the_new_entries_apply_at_once()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", AddressA);
        string recipients = dir.WriteFile("wl_recipients", "postmaster@");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("before: A is whitelisted", Dunno, client.Ask(From(AddressA)));
        Step("before: B is not", GT(), client.Ask(From(AddressB)));

        ReplaceAtomically(clients, AddressB, AddressBoth);
        int mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("O1", HupLine, mark);
        greyd.ExpectLogLine("O1", Loaded(clients, 2, recipients, 1), mark);
        Step("O1 after: A is not whitelisted any more", GT(), client.Ask(From(AddressA)));
        Step("O1 after: B is", Dunno, client.Ask(From(AddressB)));
        Step("O1 after: the recipient list was re-read too", Dunno, client.Ask(From(AddressC).With("recipient", "postmaster@example.org")));
        Assert.DoesNotContain(greyd.Process.StderrLinesFrom(mark), l => l.StartsWith("<3>", StringComparison.Ordinal));
    }

    [Fact]
    public void A_HUP_under_load_swaps_the_whole_set_at_once_and_no_request_fails()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", AddressA, AddressBoth);
        string recipients = dir.WriteFile("wl_recipients");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);

        const int Workers = 4;
        var stop = new ManualResetEventSlim();
        var reloadLogged = new ManualResetEventSlim();
        var answers = new List<(string Address, bool SentAfterReloadLine, string Reply)>[Workers];
        var tasks = new Task[Workers];
        string[] rotation = [AddressA, AddressB, AddressBoth, AddressC];
        for (int w = 0; w < Workers; w++)
        {
            var mine = answers[w] = new List<(string, bool, string)>(50000);
            int offset = w;
            tasks[w] = Task.Factory.StartNew(
                () =>
                {
                    using var client = greyd.NewClient();
                    for (int i = offset; !stop.IsSet; i++)
                    {
                        string address = rotation[i % rotation.Length];
                        bool after = reloadLogged.IsSet; // read before sending: the answer must then follow the new set
                        client.Send(From(address).With("recipient", $"w{offset}@example.org"));
                        var result = client.TryReadReply(TimeSpan.FromSeconds(10));
                        if (result.Kind != ReplyKind.Reply)
                        {
                            throw new InvalidOperationException($"worker {offset}, request {mine.Count} for {address}: {result}");
                        }

                        mine.Add((address, after, result.Text));
                    }
                },
                TaskCreationOptions.LongRunning);
        }

        var clock = Stopwatch.StartNew();
        Thread.Sleep(500);
        int mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup(); // a reload that changes nothing: Both must never lose its entry on the way
        greyd.ExpectLogLine("unchanged reload", Loaded(clients, 2, recipients, 0), mark);

        Thread.Sleep(1000);
        ReplaceAtomically(clients, AddressB, AddressBoth);
        mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.Process.WaitForLog(l => l == Loaded(clients, 2, recipients, 0), TimeSpan.FromSeconds(5), "the reload after the edit", mark);
        reloadLogged.Set();
        var reloadedAt = clock.Elapsed;

        Thread.Sleep(500);
        greyd.Process.Hup(); // and once more with the new file in place
        Thread.Sleep(1000);
        stop.Set();
        Task.WaitAll(tasks, TimeSpan.FromSeconds(30));
        greyd.Process.AssertAlive("after the load");
        greyd.Process.AssertNoCrashTrace();

        int oldAnswers = 0;
        int newAnswers = 0;
        for (int w = 0; w < Workers; w++)
        {
            bool sawNew = false;
            foreach (var (address, afterLine, reply) in answers[w])
            {
                bool? isNew = address switch
                {
                    AddressA => reply == Dunno ? false : reply == GT() ? true : throw Unexpected(w, address, reply),
                    AddressB => reply == Dunno ? true : reply == GT() ? false : throw Unexpected(w, address, reply),
                    AddressBoth => reply == Dunno ? null : throw Unexpected(w, address, reply),
                    _ => reply == GT() ? null : throw Unexpected(w, address, reply),
                };
                if (isNew is not bool setIsNew)
                {
                    continue;
                }

                if (!setIsNew && (sawNew || afterLine))
                {
                    Assert.Fail(
                        $"worker {w}: {address} got '{reply}' (the old set) " +
                        (afterLine ? "although the request was sent after the reload was logged" : "after an earlier answer already followed the new set"));
                }

                sawNew |= setIsNew;
                if (setIsNew)
                {
                    newAnswers++;
                }
                else
                {
                    oldAnswers++;
                }
            }
        }

        int total = answers.Sum(a => a.Count);
        Assert.True(oldAnswers >= 100 && newAnswers >= 100, $"too little load around the reload: {oldAnswers} old-set and {newAnswers} new-set answers of {total}");
        Console.WriteLine($"HUP under load: {total} requests from {Workers} clients in {clock.Elapsed.TotalSeconds:0.0} s, reload logged at {reloadedAt.TotalSeconds:0.00} s; {oldAnswers} old-set, {newAnswers} new-set answers for A/B");

        static Exception Unexpected(int worker, string address, string reply) =>
            new Xunit.Sdk.XunitException($"worker {worker}: {address} got '{reply}', which neither the old nor the new whitelist gives");
    }

    [Fact]
    public void O2_a_HUP_with_a_bad_regex_or_an_unreadable_file_keeps_the_previous_set_and_the_daemon_running()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", AddressA);
        string recipients = dir.WriteFile("wl_recipients", "postmaster@");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("before: A is whitelisted", Dunno, client.Ask(From(AddressA)));

        ReplaceAtomically(clients, "# broken", "/(unclosed/", AddressB);
        ReplaceAtomically(recipients, "abuse@");
        int mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("O2", HupLine, mark);
        string error = greyd.ExpectLog(
            "O2",
            l => l.StartsWith($"<3>{clients} line 2: invalid regular expression: ", StringComparison.Ordinal),
            $"'<3>{clients} line 2: invalid regular expression: ...'",
            mark);
        greyd.ExpectLogLine("O2", NotReloadedLine, mark);
        var lines = greyd.Process.StderrLinesFrom(mark).ToList();
        Assert.True(lines.IndexOf(error) < lines.IndexOf(NotReloadedLine), "the regex error must come before 'whitelists not reloaded'");
        Assert.DoesNotContain(lines, l => l.StartsWith("<5>whitelists loaded:", StringComparison.Ordinal));

        greyd.Process.AssertAlive("after a HUP with a bad regex");
        Step("O2: A is still whitelisted", Dunno, client.Ask(From(AddressA)));
        Step("O2: B (from the rejected file) is not", GT(), client.Ask(From(AddressB)));
        Step("O2: the recipient list was not swapped either (old entry)", Dunno, client.Ask(From(AddressC).With("recipient", "postmaster@example.org")));
        Step("O2: the recipient list was not swapped either (new entry)", GT(), client.Ask(From(AddressC).With("recipient", "abuse@example.org")));

        // An unreadable file (here: a directory in its place; the tests may run as root, so modes prove nothing).
        File.Delete(clients);
        Directory.CreateDirectory(clients);
        mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("unreadable", HupLine, mark);
        greyd.ExpectLog("unreadable", l => l.StartsWith($"<3>can't open {clients}", StringComparison.Ordinal), $"'<3>can't open {clients}...'", mark);
        greyd.ExpectLogLine("unreadable", NotReloadedLine, mark);
        greyd.Process.AssertAlive("after a HUP with an unreadable file");
        Step("unreadable: A is still whitelisted", Dunno, client.Ask(From(AddressA)));

        // Once the file is fixed, the next HUP takes it.
        Directory.Delete(clients);
        File.WriteAllText(clients, AddressB + "\n");
        mark = greyd.Process.StderrLineCount;
        greyd.Process.Hup();
        greyd.ExpectLogLine("fixed", Loaded(clients, 1, recipients, 1), mark);
        Step("fixed: A is not whitelisted any more", GT(), client.Ask(From(AddressA)));
        Step("fixed: B is", Dunno, client.Ask(From(AddressB)));
        Step("fixed: the new recipient list applies", Dunno, client.Ask(From(AddressC).With("recipient", "abuse@example.org")));
        greyd.Process.AssertNoCrashTrace();
    }

    [Fact]
    public void A_whitelist_file_edited_on_disk_is_reloaded_within_five_seconds_without_a_signal()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", AddressA);
        string recipients = dir.File("wl_recipients"); // missing at start, created later
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        var client = greyd.Connect();
        Step("before: A is whitelisted", Dunno, client.Ask(From(AddressA)));

        // Edited in place (truncate and write), as a shell redirection does.
        int mark = greyd.Process.StderrLineCount;
        var clock = Stopwatch.StartNew();
        File.WriteAllText(clients, $"# edited\n{AddressB}\n");
        greyd.Process.WaitForLog(l => l == ChangedLine, TimeSpan.FromSeconds(5), "the change to be noticed within 5 s", mark);
        string reloaded = $"<5>whitelists loaded: clients {clients} (1 entry); recipients {recipients} (missing)";
        greyd.Process.WaitForLog(l => l == reloaded, TimeSpan.FromSeconds(5) - clock.Elapsed, "the reload within 5 s", mark);
        var edited = clock.Elapsed;
        Step("edited: A is not whitelisted any more", GT(), client.Ask(From(AddressA)));
        Step("edited: B is", Dunno, client.Ask(From(AddressB)));

        // A file that was missing at start-up is picked up once it appears.
        mark = greyd.Process.StderrLineCount;
        clock.Restart();
        File.WriteAllText(recipients, "postmaster@\n");
        greyd.Process.WaitForLog(l => l == Loaded(clients, 1, recipients, 1), TimeSpan.FromSeconds(5), "the new file to be loaded within 5 s", mark);
        var created = clock.Elapsed;
        Step("created: the recipient entry applies", Dunno, client.Ask(From(AddressC).With("recipient", "postmaster@example.org")));

        Assert.DoesNotContain(greyd.Process.StderrLines, l => l == HupLine);
        Console.WriteLine($"file watch: edit picked up after {edited.TotalSeconds:0.00} s, new file after {created.TotalSeconds:0.00} s");
    }

    [Fact]
    public void O3_greyd_starts_with_a_bad_regex_logs_it_and_uses_the_other_entries()
    {
        using var dir = new TempDir();
        string clients = dir.WriteFile("wl_clients", "/(unclosed/", AddressA, @"/^mx\d+\.ok\.test$/", "/[z-a]/");
        string recipients = dir.WriteFile("wl_recipients", "/bad(/", "postmaster@");
        using var greyd = GreydInstance.StartForVectors("--whitelist-clients=" + clients, "--whitelist-recipients=" + recipients);
        greyd.ExpectLog("O3", l => l.StartsWith($"<3>{clients} line 1: invalid regular expression: ", StringComparison.Ordinal), "the error for client line 1");
        greyd.ExpectLog("O3", l => l.StartsWith($"<3>{clients} line 4: invalid regular expression: ", StringComparison.Ordinal), "the error for client line 4");
        greyd.ExpectLog("O3", l => l.StartsWith($"<3>{recipients} line 1: invalid regular expression: ", StringComparison.Ordinal), "the error for recipient line 1");
        greyd.ExpectLogLine("O3", Loaded(clients, 2, recipients, 1));
        Assert.DoesNotContain(greyd.Process.StderrLines, l => l == NotReloadedLine);

        var client = greyd.Connect();
        Step("O3: the address entry works", Dunno, client.Ask(From(AddressA)));
        Step("O3: the good regex works", Dunno, client.Ask(From(AddressC).With("client_name", "MX3.ok.test")));
        Step("O3: the good recipient entry works", Dunno, client.Ask(From(AddressC).With("recipient", "postmaster@example.org")));
        Step("O3: others are greylisted", GT(), client.Ask(From(AddressC)));
    }
}
