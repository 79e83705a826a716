/*
 * The Redis Lua scripts of limits and budgets. One script call admits a request against every rate limit and
 * budget that applies to it (all or nothing, atomic: Redis runs a script alone), so concurrent requests on any
 * number of ingress replicas cannot overshoot a limit or a budget.
 *
 * Money is nano-USD. Redis keeps counters as 64-bit integers (HINCRBY) and amounts travel as strings (Lua would
 * print a number ≥ 1e14 in exponent form); Lua compares them as doubles, exact up to 2^53 nano-USD (9,007,199 USD),
 * which is why budgets are capped at 9,000,000 USD per period (admin schema).
 *
 * Key layout (prefix P):
 *   rate scope S:  P:rl:S:rpm (ZSET reqId → admitted at, a sliding 60 s log)
 *                  P:rl:S:tpm:<minute> (integer, tokens admitted in this clock minute)
 *                  P:rl:S:conc (ZSET reqId → hold expiry, in-flight requests)
 *   budget B:      P:bud:<scope>:<id>:<period>      HASH spent, reserved, a50/a80/a100 (alerts sent)
 *                  ...:h (HASH reqId → held amount), ...:x (ZSET reqId → hold expiry)
 *   request R:     P:req:R  the settlement record (JSON): which counters R touched, estimate, amount held
 */

/** status codes returned by ADMIT */
export const ADMIT_STATUS = { ok: 0, rpm: 1, tpm: 2, concurrency: 3, budget: 4 } as const;

export const ADMIT_LUA = `
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

-- 1. checks (nothing is written unless every check passes)
for i = 0, nRate - 1 do
  local rpmZ, tpmK, concZ = KEYS[2 + i * 3], KEYS[3 + i * 3], KEYS[4 + i * 3]
  local a = 9 + i * 4
  local rpm, tpm, conc = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', rpmZ, '-inf', now - 60000)
    local used = redis.call('ZCARD', rpmZ)
    if used >= rpm then
      local oldest = redis.call('ZRANGE', rpmZ, 0, 0, 'WITHSCORES')
      local retry = 1000
      if oldest[2] then retry = tonumber(oldest[2]) + 60000 - now end
      return {1, i, retry, rpm, 0, -1, -1}
    end
    if remReq < 0 or rpm - used - 1 < remReq then remReq = rpm - used - 1; limReq = rpm end
  end
  if tpm > 0 then
    local used = tonumber(redis.call('GET', tpmK) or '0')
    if used + tokens > tpm then
      return {2, i, 60000 - (now % 60000), -1, -1, tpm, math.max(0, tpm - used)}
    end
    if remTok < 0 or tpm - used - tokens < remTok then remTok = tpm - used - tokens; limTok = tpm end
  end
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', concZ, '-inf', now)
    if redis.call('ZCARD', concZ) >= conc then
      return {3, i, 1000, -1, -1, -1, -1}
    end
  end
end
local base = 2 + nRate * 3
local abase = 9 + nRate * 4
for j = 0, nBud - 1 do
  local b, bh, bx = KEYS[base + j * 3], KEYS[base + 1 + j * 3], KEYS[base + 2 + j * 3]
  local limit = tonumber(ARGV[abase + j * 2])
  -- release holds whose request never settled (crashed ingress, lost event): the TTL backstop
  local expired = redis.call('ZRANGEBYSCORE', bx, '-inf', now, 'LIMIT', 0, 200)
  for _, id in ipairs(expired) do
    local held = redis.call('HGET', bh, id)
    if held and held ~= '0' then redis.call('HINCRBY', b, 'reserved', '-' .. held) end
    redis.call('HDEL', bh, id)
    redis.call('ZREM', bx, id)
  end
  local spent = tonumber(redis.call('HGET', b, 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', b, 'reserved') or '0')
  if spent + reserved + amountN > limit then
    return {4, j, 0, -1, -1, -1, -1}
  end
end

-- 2. every check passed: count the request and hold the amount
local rec = { b = {}, t = {}, c = {}, e = tokens, lim = {}, ttl = {} }
for i = 0, nRate - 1 do
  local rpmZ, tpmK, concZ = KEYS[2 + i * 3], KEYS[3 + i * 3], KEYS[4 + i * 3]
  local a = 9 + i * 4
  local rpm, tpm, conc, tpmTtl = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if rpm > 0 then
    redis.call('ZADD', rpmZ, now, req)
    redis.call('PEXPIRE', rpmZ, 60000)
  end
  if tpm > 0 then
    redis.call('INCRBY', tpmK, tokens)
    redis.call('PEXPIRE', tpmK, tpmTtl)
    table.insert(rec.t, tpmK)
  end
  if conc > 0 then
    redis.call('ZADD', concZ, now + holdTtl, req)
    redis.call('PEXPIRE', concZ, holdTtl)
    table.insert(rec.c, concZ)
  end
end
for j = 0, nBud - 1 do
  local b, bh, bx = KEYS[base + j * 3], KEYS[base + 1 + j * 3], KEYS[base + 2 + j * 3]
  local periodTtl = tonumber(ARGV[abase + 1 + j * 2])
  redis.call('HINCRBY', b, 'reserved', amount)
  redis.call('HSET', bh, req, amount)
  redis.call('ZADD', bx, now + holdTtl, req)
  if periodTtl > 0 then
    redis.call('PEXPIRE', b, periodTtl)
    redis.call('PEXPIRE', bh, periodTtl)
    redis.call('PEXPIRE', bx, periodTtl)
  end
  table.insert(rec.b, b)
  table.insert(rec.lim, ARGV[abase + j * 2])
  table.insert(rec.ttl, periodTtl)
end
if nRate + nBud > 0 then
  redis.call('SET', KEYS[1], cjson.encode(rec), 'PX', recordTtl)
end
return {0, -1, 0, limReq, remReq, limTok, remTok}
`;

/**
 * SETTLE(record key; actual cost, actual tokens): releases the hold on every budget the request reserved on, adds
 * the real cost to spent, corrects the token count of its TPM window, frees its concurrency slot, deletes the
 * record. A second call finds no record and does nothing: settlement is idempotent per request id.
 * Returns the alerts that fire: a flat list {budget key, threshold %, spent, limit, ...}, each threshold once per
 * budget period.
 */
export const SETTLE_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {} end
local rec = cjson.decode(raw)
local req = ARGV[1]
local cost = ARGV[2]
local tokens = tonumber(ARGV[3])
local alerts = {}
for k, b in ipairs(rec.b) do
  local held = redis.call('HGET', b .. ':h', req)
  if held then
    if held ~= '0' then redis.call('HINCRBY', b, 'reserved', '-' .. held) end
    redis.call('HDEL', b .. ':h', req)
    redis.call('ZREM', b .. ':x', req)
  end
  local spent = redis.call('HINCRBY', b, 'spent', cost)
  local ttl = tonumber(rec.ttl[k])
  if ttl > 0 and redis.call('PTTL', b) < 0 then redis.call('PEXPIRE', b, ttl) end
  local limit = tonumber(rec.lim[k])
  for _, pct in ipairs({50, 80, 100}) do
    if limit > 0 and spent * 100 >= limit * pct and redis.call('HSETNX', b, 'a' .. pct, 1) == 1 then
      table.insert(alerts, b)
      table.insert(alerts, pct)
      table.insert(alerts, redis.call('HGET', b, 'spent'))
      table.insert(alerts, rec.lim[k])
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

/** RELEASE(record key): frees the request's concurrency slots (the response is over); budgets wait for SETTLE. */
export const RELEASE_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
for _, c in ipairs(rec.c) do redis.call('ZREM', c, ARGV[1]) end
return 1
`;

/** READ(budget key, its holds, its expiries; now): purges expired holds, returns {spent, reserved}. */
export const READ_LUA = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do
  local held = redis.call('HGET', KEYS[2], id)
  if held and held ~= '0' then redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. held) end
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
return {redis.call('HGET', KEYS[1], 'spent') or '0', redis.call('HGET', KEYS[1], 'reserved') or '0'}
`;
