namespace Greyd.Storage.Redis;

/// <summary>
/// The merge of an imported record as Lua scripts, atomic on the server: <see cref="RecordMerge.ImportTriplet"/> and
/// <see cref="RecordMerge.ImportClient"/> line for line (ImportScriptTests hold them to the same results). The record
/// keeps the TTL a request would have given it at its last sighting: max-age, or the retry window until a pass.
/// </summary>
internal static class ImportScript
{
    // KEYS[1] triplet record. ARGV: now, delay, retry window, max-age, imported first-seen, imported last-seen.
    // Returns the ImportOutcome: 0 added, 1 merged, 2 kept, 3 expired.
    public const string Triplet = """
        local now = tonumber(ARGV[1])
        local delay = tonumber(ARGV[2])
        local retry = tonumber(ARGV[3])
        local maxage = tonumber(ARGV[4])
        local f, l = tonumber(ARGV[5]), tonumber(ARGV[6])
        local function expired(a, b)
          return now - b > maxage or (b - a < delay and now - b > retry)
        end
        if expired(f, l) then
          return 3
        end
        local t = redis.call('HMGET', KEYS[1], 'first', 'last')
        local sf, sl = tonumber(t[1]), tonumber(t[2])
        local outcome = 0
        if sf ~= nil and sl ~= nil and not expired(sf, sl) then
          local uf, ul = math.min(sf, f), math.max(sl, l)
          if sl - sf < delay and l - f < delay and ul - uf >= delay then
            if sf < f or (sf == f and sl >= l) then
              uf, ul = sf, sl
            else
              uf, ul = f, l
            end
          end
          if uf == sf and ul == sl then
            return 2
          end
          f, l, outcome = uf, ul, 1
        end
        redis.call('HSET', KEYS[1], 'first', f, 'last', l)
        local window = retry
        if l - f >= delay then
          window = maxage
        end
        redis.call('EXPIRE', KEYS[1], window + 1 - (now - l))
        return outcome
        """;

    // KEYS[1] client record. ARGV: now, max-age, imported count, imported last-seen. Returns the ImportOutcome.
    public const string Client = """
        local now = tonumber(ARGV[1])
        local maxage = tonumber(ARGV[2])
        local n, l = tonumber(ARGV[3]), tonumber(ARGV[4])
        if now - l > maxage then
          return 3
        end
        local c = redis.call('HMGET', KEYS[1], 'count', 'last')
        local sn, sl = tonumber(c[1]), tonumber(c[2])
        local outcome = 0
        if sn ~= nil and sl ~= nil and now - sl <= maxage then
          local un, ul = math.max(sn, n), math.max(sl, l)
          if un == sn and ul == sl then
            return 2
          end
          n, l, outcome = un, ul, 1
        end
        redis.call('HSET', KEYS[1], 'count', n, 'last', l)
        redis.call('EXPIRE', KEYS[1], maxage + 1 - (now - l))
        return outcome
        """;
}
