/*
 * The Redis Lua scripts of limits and budgets. One script call admits a request against every rate limit and
 * budget that applies to it (all or nothing, atomic: Redis runs a script alone), so concurrent requests on any
 * number of ingress replicas cannot overshoot a limit or a budget.
 *
 * Money is nano-USD. Redis keeps counters as 64-bit integers (HINCRBY) and amounts travel as strings (Lua would
 * print a number ≥ 1e14 in exponent form); Lua compares them as doubles, exact up to 2^53 nano-USD (9,007,199 USD),
 * which is why budgets are capped at 9,000,000 USD per period (admin schema).
 *
 * ADMIT sits on every request's path, and inside a script each redis.call costs more than the command itself (a
 * microsecond or two of argument and reply conversion): it makes as few calls as it can (ADR 0016). A budget is one
 * HMGET to check and one HINCRBY to hold; the hold's expiry is one entry per request in a single ZSET (not one hash
 * and one ZSET per budget); TTLs are set when a counter is created, not on every request; expired holds are purged
 * only when they could change the answer (a budget check that fails is purged and checked again) and by READ.
 *
 * Key layout (prefix P):
 *   rate scope S:  P:rl:S:rpm (ZSET reqId → admitted at, a sliding 60 s log)
 *                  P:rl:S:tpm:<minute> (integer, tokens admitted in this clock minute)
 *                  P:rl:S:conc (ZSET reqId → hold expiry, in-flight requests)
 *   budget B:      P:bud:<scope>:<id>:<period>      HASH spent, reserved, a50/a80/a100 (alert published: done),
 *                  p50/p80/p100 ("<spent> <limit>" when the threshold was crossed: alert not published yet)
 *   alerts:        P:alerts (ZSET "<budget key>|<pct>" → crossed at, the alerts not published yet; ADR 0018)
 *   holds:         P:holds  (ZSET reqId → hold expiry: the request holds its record's amount `a` on each of its
 *                  budgets `b` until SETTLE, or until the expiry when it never settles)
 *   request R:     P:req:R  the settlement record (JSON): which counters R touched, estimate, amount held
 *   before ADR 0016 a hold lived in ...B:h (HASH reqId → amount) and ...B:x (ZSET reqId → expiry); records without
 *   `a` are such holds: SETTLE and the purges still release them (remove once every such record has expired, 7 days)
 */

/** status codes returned by ADMIT */
export const ADMIT_STATUS = { ok: 0, rpm: 1, tpm: 2, concurrency: 3, budget: 4 } as const;

/**
 * Releases expired holds (at most `max`): the new layout (P:holds + the request's record) and, for the budget keys
 * given, the layout before ADR 0016. `reqPrefix` is `P:req:`. Shared by ADMIT and READ.
 */
const PURGE_LUA = `
local function purge(holds, reqPrefix, budgetKeys, now, max)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, max)
  for _, id in ipairs(expired) do
    local raw = redis.call('GET', reqPrefix .. id)
    if raw then
      local r = cjson.decode(raw)
      if r.a and r.a ~= '0' then
        for _, b in ipairs(r.b) do redis.call('HINCRBY', b, 'reserved', '-' .. r.a) end
      end
    end
    redis.call('ZREM', holds, id)
  end
  for _, b in ipairs(budgetKeys) do
    local bh, bx = b .. ':h', b .. ':x'
    local old = redis.call('ZRANGEBYSCORE', bx, '-inf', now, 'LIMIT', 0, max)
    for _, id in ipairs(old) do
      local held = redis.call('HGET', bh, id)
      if held and held ~= '0' then redis.call('HINCRBY', b, 'reserved', '-' .. held) end
      redis.call('HDEL', bh, id)
      redis.call('ZREM', bx, id)
    end
  end
end
`;

/**
 * ADMIT(KEYS: record, holds, per rate scope: rpm log, tpm counter, concurrency set, per budget: its hash;
 * ARGV: now, request id, hold TTL, record TTL, amount, tokens, #rates, #budgets, per rate scope: rpm, tpm,
 * concurrency, tpm TTL, per budget: limit, period TTL; then, optional, how many ms ahead of `now` to log the request
 * in RPM windows). Returns {status, index, retry after ms, limit requests, remaining requests, limit tokens,
 * remaining tokens, least budget headroom left in nano-USD} (-1 = none).
 */
export const ADMIT_LUA = `${PURGE_LUA}
local now = tonumber(ARGV[1])
local req = ARGV[2]
local holdTtl = tonumber(ARGV[3])
local recordTtl = tonumber(ARGV[4])
local amount = ARGV[5]
local amountN = tonumber(amount)
local tokens = tonumber(ARGV[6])
local nRate = tonumber(ARGV[7])
local nBud = tonumber(ARGV[8])
local limReq, remReq, limTok, remTok = -1, -1, -1, -1
local base = 3 + nRate * 3
local abase = 9 + nRate * 4
-- an admission taken ahead of its request (a prefetched slot, ADR 0019) is logged in the RPM window as of when it
-- may be used at the latest: its entry leaves the window no earlier than the request's would
local rpmAhead = tonumber(ARGV[abase + nBud * 2] or '0') or 0
local counted = {}

-- undoes the TPM counts already taken (a later check refused: nothing stays written)
local function undo()
  for _, k in ipairs(counted) do redis.call('DECRBY', k, tokens) end
end

-- 1. checks; the only write before every check passed is the TPM count, undone on a refusal
for i = 0, nRate - 1 do
  local rpmZ, tpmK, concZ = KEYS[3 + i * 3], KEYS[4 + i * 3], KEYS[5 + i * 3]
  local a = 9 + i * 4
  local rpm, tpm, conc = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', rpmZ, '-inf', now - 60000)
    local used = redis.call('ZCARD', rpmZ)
    if used >= rpm then
      undo()
      local oldest = redis.call('ZRANGE', rpmZ, 0, 0, 'WITHSCORES')
      local retry = 1000
      if oldest[2] then retry = tonumber(oldest[2]) + 60000 - now end
      return {1, i, retry, rpm, 0, -1, -1}
    end
    if remReq < 0 or rpm - used - 1 < remReq then remReq = rpm - used - 1; limReq = rpm end
  end
  if tpm > 0 then
    local total = redis.call('INCRBY', tpmK, tokens)
    -- the counter was 0 or did not exist: (re)arm its TTL (the same end of life however often it is set)
    if total == tokens then redis.call('PEXPIRE', tpmK, tonumber(ARGV[a + 3])) end
    local used = total - tokens
    if total > tpm then
      redis.call('DECRBY', tpmK, tokens)
      undo()
      return {2, i, 60000 - (now % 60000), -1, -1, tpm, math.max(0, tpm - used)}
    end
    table.insert(counted, tpmK)
    if remTok < 0 or tpm - total < remTok then remTok = tpm - total; limTok = tpm end
  end
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', concZ, '-inf', now)
    if redis.call('ZCARD', concZ) >= conc then
      undo()
      return {3, i, 1000, -1, -1, -1, -1}
    end
  end
end
-- the least a budget has left once this request holds its amount (-1 = no budget)
local headroom = -1
local function fits(b, limit)
  local v = redis.call('HMGET', b, 'spent', 'reserved')
  local left = limit - ((tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) + amountN)
  if left < 0 then return false end
  if headroom < 0 or left < headroom then headroom = left end
  return true
end
local purged = false
for j = 0, nBud - 1 do
  local b = KEYS[base + j]
  local limit = tonumber(ARGV[abase + j * 2])
  if not fits(b, limit) then
    -- holds whose request never settled (crashed ingress, lost event) may be what fills the budget: release the
    -- expired ones (the TTL backstop) and check again
    if not purged then
      local bs = {}
      for k = 0, nBud - 1 do bs[k + 1] = KEYS[base + k] end
      purge(KEYS[2], string.sub(KEYS[1], 1, #KEYS[1] - #req), bs, now, 1000)
      purged = true
    end
    if not fits(b, limit) then
      undo()
      return {4, j, 0, -1, -1, -1, -1}
    end
  end
end

-- 2. every check passed: count the request and hold the amount
local rec = { b = {}, t = counted, c = {}, e = tokens, lim = {}, ttl = {}, a = amount }
for i = 0, nRate - 1 do
  local rpmZ, concZ = KEYS[3 + i * 3], KEYS[5 + i * 3]
  local a = 9 + i * 4
  if tonumber(ARGV[a]) > 0 then
    redis.call('ZADD', rpmZ, now + rpmAhead, req)
    redis.call('PEXPIRE', rpmZ, 60000)
  end
  if tonumber(ARGV[a + 2]) > 0 then
    redis.call('ZADD', concZ, now + holdTtl, req)
    redis.call('PEXPIRE', concZ, holdTtl)
    table.insert(rec.c, concZ)
  end
end
for j = 0, nBud - 1 do
  local b = KEYS[base + j]
  local periodTtl = tonumber(ARGV[abase + 1 + j * 2])
  local reserved = redis.call('HINCRBY', b, 'reserved', amount)
  -- nothing was reserved before: the hash may be new, give it its TTL (end of the period + grace, set idempotently)
  if periodTtl > 0 and reserved == amountN then redis.call('PEXPIRE', b, periodTtl) end
  rec.b[j + 1] = b
  rec.lim[j + 1] = ARGV[abase + j * 2]
  rec.ttl[j + 1] = periodTtl
end
if nBud > 0 then redis.call('ZADD', KEYS[2], now + holdTtl, req) end
if nRate + nBud > 0 then
  redis.call('SET', KEYS[1], cjson.encode(rec), 'PX', recordTtl)
end
return {0, -1, 0, limReq, remReq, limTok, remTok, headroom}
`;

/**
 * SETTLE(record key, holds, pending alerts; request id, actual cost, actual tokens, now): releases the hold on every
 * budget the request reserved on, adds the real cost to spent, corrects the token count of its TPM window, frees its
 * concurrency slot, deletes the record. A second call finds no record and does nothing: settlement is idempotent per
 * request id. A hold that already expired (and was purged) is not released twice: its entry in the holds ZSET is gone.
 * Returns the alerts to publish: a flat list {budget key, threshold %, spent, limit, ...}: every threshold of the
 * budgets it settled on that is crossed and not published yet (ADR 0018). The first crossing records the spent and
 * limit of that moment (p<pct>) and lists the alert in P:alerts; until billing marks it published (PUBLISHED, after
 * JetStream's ack: a<pct>) each settlement on the budget reports it again with the same figures, so an alert whose
 * publish failed, or whose billing died before publishing, is not lost. a<pct> set (also by the SETTLE before ADR
 * 0018, which set it at the crossing) = done: each threshold is published once per budget period.
 */
export const SETTLE_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {} end
local rec = cjson.decode(raw)
local req = ARGV[1]
local cost = ARGV[2]
local tokens = tonumber(ARGV[3])
local alerts = {}
local held = false
if rec.a and #rec.b > 0 then held = redis.call('ZREM', KEYS[2], req) == 1 end
for k, b in ipairs(rec.b) do
  if rec.a then
    if held and rec.a ~= '0' then redis.call('HINCRBY', b, 'reserved', '-' .. rec.a) end
  else
    -- a hold taken before ADR 0016: its amount is in the budget's own :h hash
    local h = redis.call('HGET', b .. ':h', req)
    if h then
      if h ~= '0' then redis.call('HINCRBY', b, 'reserved', '-' .. h) end
      redis.call('HDEL', b .. ':h', req)
      redis.call('ZREM', b .. ':x', req)
    end
  end
  local spent = redis.call('HINCRBY', b, 'spent', cost)
  local ttl = tonumber(rec.ttl[k])
  if ttl > 0 and redis.call('PTTL', b) < 0 then redis.call('PEXPIRE', b, ttl) end
  local limit = tonumber(rec.lim[k])
  for _, pct in ipairs({50, 80, 100}) do
    if limit > 0 and spent * 100 >= limit * pct then
      local v = redis.call('HMGET', b, 'a' .. pct, 'p' .. pct)
      if not v[1] then
        local at = v[2]
        if not at then
          at = redis.call('HGET', b, 'spent') .. ' ' .. rec.lim[k]
          redis.call('HSET', b, 'p' .. pct, at)
          redis.call('ZADD', KEYS[3], ARGV[4], b .. '|' .. pct)
        end
        local s, l = string.match(at, '^(%S+) (%S+)$')
        if s then
          table.insert(alerts, b)
          table.insert(alerts, pct)
          table.insert(alerts, s)
          table.insert(alerts, l)
        end
      end
    end
  end
end
local delta = tokens - tonumber(rec.e)
for _, t in ipairs(rec.t) do
  if delta ~= 0 and redis.call('EXISTS', t) == 1 then
    if redis.call('INCRBY', t, delta) < 0 then redis.call('SET', t, 0, 'KEEPTTL') end
  end
end
for _, c in ipairs(rec.c) do redis.call('ZREM', c, req) end
redis.call('DEL', KEYS[1])
return alerts
`;

/**
 * PUBLISHED(budget key, pending alerts; threshold %): JetStream stored the alert: marks it done (a<pct>) and takes it
 * off the pending list. A budget whose period expired meanwhile is not created again (it would have no TTL).
 */
export const PUBLISHED_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'a' .. ARGV[1], 1)
  redis.call('HDEL', KEYS[1], 'p' .. ARGV[1])
end
redis.call('ZREM', KEYS[2], KEYS[1] .. '|' .. ARGV[1])
return 1
`;

/**
 * PENDING(pending alerts; crossed before, max): the alerts crossed before the given time and still not published, in
 * SETTLE's flat format (for budgets that no settlement touches any more, e.g. one refusing every request at 100 %).
 * Entries already published, or whose budget period expired, are dropped from the list.
 */
export const PENDING_LUA = `
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  local b, pct = string.match(m, '^(.*)|(%d+)$')
  local v = b and redis.call('HMGET', b, 'a' .. pct, 'p' .. pct)
  local s, l
  if v and not v[1] and v[2] then s, l = string.match(v[2], '^(%S+) (%S+)$') end
  if s then
    table.insert(out, b)
    table.insert(out, tonumber(pct))
    table.insert(out, s)
    table.insert(out, l)
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`;

/** RELEASE(record key): frees the request's concurrency slots (the response is over); budgets wait for SETTLE. */
export const RELEASE_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
for _, c in ipairs(rec.c) do redis.call('ZREM', c, ARGV[1]) end
return 1
`;

/** READ(budget key, holds; now, record prefix P:req:): purges expired holds, returns {spent, reserved}. */
export const READ_LUA = `${PURGE_LUA}
purge(KEYS[2], ARGV[2], {KEYS[1]}, ARGV[1], 1000)
local v = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
return {v[1] or '0', v[2] or '0'}
`;
