using System.Diagnostics;

namespace Greyd.FuzzTests;

/// <summary>
/// A small in-process mutational fuzzer. It is NOT coverage-guided: it mutates the seed corpus at random (bit flips,
/// byte edits, inserts, deletions, block repeats, dictionary tokens, splices) and keeps a mutant as a new seed only
/// when the target reports an outcome signature it has not seen before (a cheap stand-in for coverage feedback).
/// Everything is seeded, so a run is reproducible from its seed; a failing input is saved and reported with the
/// per-input seed the target was given, so it can become a named regression test.
/// </summary>
public sealed class MutationFuzzer
{
    /// <summary>Runs one input; throws on a broken invariant; returns an outcome signature.</summary>
    public delegate string Target(byte[] input, Random random);

    private readonly string _name;
    private readonly List<byte[]> _pool;
    private readonly byte[][] _dictionary;
    private readonly int _maxLength;
    private readonly Target _target;
    private readonly HashSet<string> _signatures = new(StringComparer.Ordinal);

    public MutationFuzzer(string name, IEnumerable<byte[]> seeds, IEnumerable<byte[]> dictionary, int maxLength, Target target)
    {
        _name = name;
        _pool = [.. seeds];
        if (_pool.Count == 0)
        {
            _pool.Add([]);
        }

        _dictionary = [.. dictionary];
        _maxLength = maxLength;
        _target = target;
    }

    public sealed record Result(long Iterations, TimeSpan Elapsed, int PoolSize, string? Failure)
    {
        public double PerSecond => Iterations / Math.Max(Elapsed.TotalSeconds, 0.001);
    }

    /// <summary>Runs for <paramref name="budget"/>; a single input running longer than <paramref name="hangLimit"/> is a hang.</summary>
    public Result Run(TimeSpan budget, int seed, TimeSpan hangLimit)
    {
        var random = new Random(seed);
        long iterations = 0;
        long iterationStart = 0; // Stopwatch ticks; 0 when idle
        byte[] current = [];
        int currentSeed = 0;
        string? failure = null;
        var clock = Stopwatch.StartNew();
        var stop = new ManualResetEventSlim();

        // Seeds first, unmutated, so a corpus file that breaks an invariant is reported as itself.
        var worker = new Thread(() =>
        {
            try
            {
                int seedIndex = 0;
                while (clock.Elapsed < budget)
                {
                    byte[] input = seedIndex < _pool.Count ? _pool[seedIndex++] : Mutate(random);
                    int targetSeed = random.Next();
                    Volatile.Write(ref current, input);
                    Volatile.Write(ref currentSeed, targetSeed);
                    Interlocked.Exchange(ref iterationStart, Math.Max(1, clock.ElapsedTicks));
                    string signature = _target(input, new Random(targetSeed));
                    Interlocked.Exchange(ref iterationStart, 0);
                    Interlocked.Increment(ref iterations);
                    if (_signatures.Add(signature) && seedIndex >= _pool.Count && _pool.Count < 4096)
                    {
                        _pool.Add(input);
                        seedIndex = _pool.Count;
                    }
                }
            }
#pragma warning disable CA1031 // Every exception is a finding.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = Report("crash", Volatile.Read(ref current), Volatile.Read(ref currentSeed), e.ToString());
            }
            finally
            {
                stop.Set();
            }
        })
        { IsBackground = true, Name = "fuzz-" + _name };
        worker.Start();

        while (!stop.Wait(100))
        {
            long started = Interlocked.Read(ref iterationStart);
            if (started != 0 && clock.ElapsedTicks - started > hangLimit.TotalSeconds * Stopwatch.Frequency)
            {
                // The worker is a background thread: it is left behind and dies with the test host.
                failure = Report("hang", Volatile.Read(ref current), Volatile.Read(ref currentSeed), $"one input ran longer than {hangLimit.TotalSeconds} s");
                break;
            }
        }

        return new Result(Interlocked.Read(ref iterations), clock.Elapsed, _pool.Count, failure);
    }

    private string Report(string kind, byte[] input, int targetSeed, string detail)
    {
        string dir = Environment.GetEnvironmentVariable("GREYD_FUZZ_FINDINGS") ?? Path.Combine(Path.GetTempPath(), "greyd-fuzz-findings");
        string path = Path.Combine(dir, $"{_name}-{kind}-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(input))[..16]}-seed{targetSeed}.bin");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(path, input);
        }
        catch (IOException)
        {
            path = "(not saved)";
        }

        string base64 = Convert.ToBase64String(input);
        if (base64.Length > 8192)
        {
            base64 = base64[..8192] + "...";
        }

        return $"{_name} {kind}: {detail}\ninput ({input.Length} bytes) saved to {path}, target seed {targetSeed}\nbase64: {base64}";
    }

    private byte[] Mutate(Random random)
    {
        var data = new List<byte>(_pool[random.Next(_pool.Count)]);
        int steps = 1 + random.Next(random.Next(2) == 0 ? 4 : 16);
        for (int s = 0; s < steps; s++)
        {
            MutateOnce(data, random);
        }

        if (data.Count > _maxLength)
        {
            data.RemoveRange(_maxLength, data.Count - _maxLength);
        }

        return [.. data];
    }

    private static readonly byte[] s_interesting = [0, (byte)'\r', (byte)'\n', (byte)'=', (byte)'#', (byte)'/', (byte)'.', (byte)':', (byte)'@', (byte)' ', (byte)'\t', 0x7f, 0x80, 0xc3, 0xff, (byte)'0', (byte)'9'];

    private void MutateOnce(List<byte> data, Random random)
    {
        int at = data.Count == 0 ? 0 : random.Next(data.Count + 1);
        switch (random.Next(12))
        {
            case 0 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[Math.Min(at, data.Count - 1)] = (byte)random.Next(256);
                break;
            case 2:
                data.Insert(at, s_interesting[random.Next(s_interesting.Length)]);
                break;
            case 3:
                data.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256)));
                break;
            case 4 when data.Count > 0:
                {
                    int start = random.Next(data.Count);
                    data.RemoveRange(start, Math.Min(data.Count - start, 1 + random.Next(random.Next(2) == 0 ? 4 : 256)));
                    break;
                }

            case 5 when data.Count > 0:
                {
                    // Repeat a block: grows lines and requests towards the size limits.
                    int start = random.Next(data.Count);
                    int length = Math.Min(data.Count - start, 1 + random.Next(512));
                    var block = data.GetRange(start, length);
                    int times = random.Next(32) == 0 ? random.Next(1, 2000) : random.Next(1, 8);
                    for (int i = 0; i < times && data.Count + block.Count <= _maxLength; i++)
                    {
                        data.InsertRange(at, block);
                    }

                    break;
                }

            case 6:
            case 7:
                if (_dictionary.Length > 0)
                {
                    data.InsertRange(at, _dictionary[random.Next(_dictionary.Length)]);
                }

                break;
            case 8 when data.Count > 0 && _dictionary.Length > 0:
                {
                    var token = _dictionary[random.Next(_dictionary.Length)];
                    int start = Math.Min(at, data.Count - 1);
                    data.RemoveRange(start, Math.Min(token.Length, data.Count - start));
                    data.InsertRange(start, token);
                    break;
                }

            case 9:
                {
                    // Splice in part of another seed.
                    var other = _pool[random.Next(_pool.Count)];
                    if (other.Length > 0)
                    {
                        int start = random.Next(other.Length);
                        data.InsertRange(at, other.AsSpan(start, Math.Min(other.Length - start, 1 + random.Next(other.Length))).ToArray());
                    }

                    break;
                }

            case 10 when data.Count > 1:
                {
                    // Swap two bytes far apart (moves '=', LF, '/' around).
                    int a = random.Next(data.Count), b = random.Next(data.Count);
                    (data[a], data[b]) = (data[b], data[a]);
                    break;
                }

            case 11:
                {
                    // Truncate: incomplete requests and lines.
                    if (data.Count > 0)
                    {
                        data.RemoveRange(at == data.Count ? data.Count - 1 : at, data.Count - (at == data.Count ? data.Count - 1 : at));
                    }

                    break;
                }

            default:
                data.Insert(at, (byte)random.Next(256));
                break;
        }
    }

    /// <summary>Reads every file of a corpus directory copied beside the test assembly.</summary>
    public static IEnumerable<byte[]> LoadCorpus(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "corpus", name);
        return Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes);
    }
}
