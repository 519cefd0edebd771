namespace Greyd.Storage.Redis;

/// <summary>
/// One request's store work as a Lua script, so that it is one round trip and atomic on the server however many
/// greyd hosts write at once. It is <see cref="Greyd.Policy.AutoWhitelist"/> and
/// <see cref="Greyd.Policy.TripletMath"/> line for line (RequestScriptTests hold them to the same results),
/// plus the merge of this host's local view. Keys expire by TTL: max-age, or the retry window until a pass.
/// </summary>
internal static class RequestScript
{
    // KEYS[1] client record, KEYS[2] triplet record (hashes).
    // ARGV: now, delay, retry window, max-age, AWL threshold (0 = off), this host's first sighting (0 = none),
    // 1 when this host's own store whitelists the client.
    // Returns {1} for a whitelisted client, else {0, first-seen, last was a pass, corrected, new AWL count, first retry}.
    public const string Text = """
        local now = tonumber(ARGV[1])
        local delay = tonumber(ARGV[2])
        local retry = tonumber(ARGV[3])
        local maxage = tonumber(ARGV[4])
        local awl = tonumber(ARGV[5])
        local localfirst = tonumber(ARGV[6])
        local localawl = ARGV[7] == '1'
        local n, cl
        if awl > 0 then
          local c = redis.call('HMGET', KEYS[1], 'count', 'last')
          n, cl = tonumber(c[1]), tonumber(c[2])
          if n == nil or cl == nil or now - cl > maxage then
            n, cl = nil, nil
          end
          if n ~= nil and n >= awl then
            if now >= cl + 3600 or cl > now then
              redis.call('HSET', KEYS[1], 'count', n + 1, 'last', now)
              redis.call('EXPIRE', KEYS[1], maxage + 1)
            end
            return {1}
          end
          if localawl then
            redis.call('HSET', KEYS[1], 'count', awl, 'last', now)
            redis.call('EXPIRE', KEYS[1], maxage + 1)
            return {1}
          end
        end
        local t = redis.call('HMGET', KEYS[2], 'first', 'last')
        local f, l = tonumber(t[1]), tonumber(t[2])
        local first, passed, corrected, firstretry = now, false, false, false
        if f ~= nil and l ~= nil and not (now - l > maxage or (l - f < delay and now - l > retry)) then
          first = f
          passed = l - f >= delay
          if not passed and now - first > retry then
            first = now
          end
          if first > now then
            corrected = true
            if passed then first = now - delay else first = now end
          elseif passed and now - first < delay then
            first = now - delay
          end
          firstretry = l == f and first == f and now > first
        end
        if localfirst > 0 and localfirst < first then
          first = localfirst
        end
        redis.call('HSET', KEYS[2], 'first', first, 'last', now)
        if now - first >= delay then
          redis.call('EXPIRE', KEYS[2], maxage + 1)
        else
          redis.call('EXPIRE', KEYS[2], retry + 1)
        end
        local count = 0
        if awl > 0 and not passed and now - first >= delay then
          if n == nil then
            count = 1
          elseif now >= cl + 3600 then
            count = n + 1
          end
          if count > 0 then
            redis.call('HSET', KEYS[1], 'count', count, 'last', now)
            redis.call('EXPIRE', KEYS[1], maxage + 1)
          end
        end
        return {0, first, passed and 1 or 0, corrected and 1 or 0, count, firstretry and 1 or 0}
        """;
}
