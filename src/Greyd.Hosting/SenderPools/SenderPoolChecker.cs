using System.Buffers.Binary;
using System.Net;
using System.Text;
using Greyd.Hosting.Logging;
using Greyd.Hosting.Server;
using Greyd.Policy;
using Greyd.Spf;
using Greyd.Spf.Evaluation;

namespace Greyd.Hosting.SenderPools;

/// <summary>
/// Runs the SPF check that decides a request's key, within a hard time budget: past it the request goes on with
/// the client-network key while the lookups finish in the background and warm the cache. While DNS keeps timing
/// out, checks pause for a while, so an outage does not add the budget to every request.
/// </summary>
public sealed class SenderPoolChecker
{
    /// <summary>Timeouts in a row that pause the checks.</summary>
    public const int PauseAfterTimeouts = 5;

    /// <summary>How long checks pause; the first request after it checks again.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromSeconds(30);

    private readonly SpfEvaluator _evaluator;
    private readonly TimeSpan _budget;
    private readonly GreydLog _log;
    private readonly RateLimitedLog _faults;
    private int _timeoutsInARow;
    private long _pausedUntil;

    public SenderPoolChecker(SpfEvaluator evaluator, TimeSpan budget, GreydLog log)
    {
        _evaluator = evaluator;
        _budget = budget;
        _log = log;
        _faults = new RateLimitedLog(log, LogPriority.Error, "SPF check failed, using the client-network key");
    }

    /// <summary>The time budget of one check (<c>--spf-timeout</c>).</summary>
    public TimeSpan Budget => _budget;

    /// <summary>
    /// The sender's domain in lower case, or null when there is none to check: the null sender, no '@', or
    /// anything but a plain DNS name (letters, digits, '-', '_', dots), which SPF could not authorise anyway.
    /// </summary>
    public static string? SenderDomain(ReadOnlySpan<byte> sender)
    {
        int at = sender.LastIndexOf((byte)'@');
        if (at < 0)
        {
            return null;
        }

        var domain = sender[(at + 1)..];
        if (!domain.IsEmpty && domain[^1] == (byte)'.')
        {
            domain = domain[..^1];
        }

        if (domain.IsEmpty || domain.Length > TripletKeyBuilder.MaxPoolDomainLength)
        {
            return null;
        }

        Span<char> text = stackalloc char[domain.Length];
        for (int i = 0; i < domain.Length; i++)
        {
            byte b = domain[i];
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.'))
            {
                return null;
            }

            text[i] = (char)(b | (b is >= (byte)'A' and <= (byte)'Z' ? 0x20 : 0));
        }

        return new string(text);
    }

    /// <summary>check_host(client, domain, sender) within the budget. Never throws: trouble means the network key.</summary>
    public ValueTask<PoolCheck> CheckAsync(ClientAddress client, string domain, ReadOnlySpan<byte> sender, ReadOnlySpan<byte> helo)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _pausedUntil))
        {
            return ValueTask.FromResult(new PoolCheck(SpfResult.TempError, PoolCheckStatus.Skipped, domain, "SPF checks paused: DNS lookups keep timing out"));
        }

        ValueTask<SpfCheck> pending;
        try
        {
            pending = _evaluator.CheckHostAsync(ToIPAddress(client), domain, Encoding.UTF8.GetString(sender), Encoding.UTF8.GetString(helo), CancellationToken.None);
        }
        catch (Exception e)
        {
            return ValueTask.FromResult(Fault(domain, e));
        }

        if (pending.IsCompletedSuccessfully)
        {
            return ValueTask.FromResult(Completed(pending.Result, domain));
        }

        return WaitAsync(pending.AsTask(), domain);
    }

    /// <summary>The address as .NET's type, for the evaluator.</summary>
    public static IPAddress ToIPAddress(ClientAddress client)
    {
        if (!client.IsIPv6)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)client.Value);
            return new IPAddress(v4);
        }

        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, client.Value);
        return new IPAddress(v6);
    }

    private async ValueTask<PoolCheck> WaitAsync(Task<SpfCheck> pending, string domain)
    {
        try
        {
            return Completed(await pending.WaitAsync(_budget).ConfigureAwait(false), domain);
        }
        catch (TimeoutException)
        {
            TimedOut();
            return new PoolCheck(SpfResult.TempError, PoolCheckStatus.TimedOut, domain, $"no SPF answer within {(long)_budget.TotalMilliseconds} ms");
        }
        catch (Exception e)
        {
            return Fault(domain, e);
        }
    }

    // The domain is the one validated here (the key and the log line use it), whatever the evaluator echoes.
    private PoolCheck Completed(SpfCheck check, string domain)
    {
        if (Volatile.Read(ref _timeoutsInARow) != 0)
        {
            Volatile.Write(ref _timeoutsInARow, 0);
        }

        return check.PassesAnyAddress
            ? new PoolCheck(check.Result, PoolCheckStatus.Done, domain, "the record passes any address: " + check.Reason, PassesAnyAddress: true)
            : new PoolCheck(check.Result, PoolCheckStatus.Done, domain, check.Reason);
    }

    private void TimedOut()
    {
        if (Interlocked.Increment(ref _timeoutsInARow) == PauseAfterTimeouts)
        {
            Volatile.Write(ref _pausedUntil, Environment.TickCount64 + (long)Pause.TotalMilliseconds);
            Volatile.Write(ref _timeoutsInARow, 0);
            _log.Write(LogPriority.Warning, $"SPF: {PauseAfterTimeouts} checks in a row got no DNS answer within {(long)_budget.TotalMilliseconds} ms; checks pause for {(long)Pause.TotalSeconds}s (triplets keyed by client network meanwhile)");
        }
    }

    // A fault in the SPF code must not cost the request its greylisting: it goes on with the network key.
    private PoolCheck Fault(string domain, Exception e)
    {
        _faults.Write($"SPF check failed, using the client-network key: {e.GetType().Name}: {e.Message}");
        return new PoolCheck(SpfResult.TempError, PoolCheckStatus.Done, domain, "internal error");
    }
}
