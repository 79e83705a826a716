import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Budgets, type AdmitRequest, type BudgetScope, type RateScope } from './budgets.js';

// Real Redis (shared with other suites): every key of this file lives under a fresh prefix.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest${randomBytes(4).toString('hex')}`;
let redis: Redis;
let redis2: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  redis2 = new Redis(REDIS_URL); // a second "replica": its own connection and script cache
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  redis2.disconnect();
});

const id = () => randomBytes(6).toString('hex');
const noRates: RateScope[] = [];
let seq = 0;
const req = () => `req-${++seq}-${id()}`;

/** One ADMIT: a fresh request id, now, one token, nothing held and no scopes, unless `r` says otherwise. */
const admitOne = (b: Budgets, r: Partial<AdmitRequest>) =>
  b.admit({ requestId: req(), nowMs: Date.now(), tokens: 1, amountNanoUsd: 0n, rates: noRates, budgets: [], ...r });

describe('budgets (Lua on real Redis)', () => {
  it('200 concurrent reservations against a budget that fits exactly 20: 20 pass', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 20n * 1_234_567n, period: 'monthly' };
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => admitOne(b, { nowMs: now, tokens: 10, amountNanoUsd: 1_234_567n, budgets: [budget] })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    const denied = results.find((r) => !r.ok);
    expect(denied).toMatchObject({ ok: false, reason: 'budget', scope: `key:${budget.id}` });
    expect(await b.read('key', budget.id, 'monthly', now)).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 20n * 1_234_567n,
    });
  });

  it('a team budget shared by 5 keys holds across them and across two connections', async () => {
    const b1 = new Budgets(redis, { prefix });
    const b2 = new Budgets(redis2, { prefix });
    const team: BudgetScope = { scope: 'team', id: id(), limitNanoUsd: 20n * 1000n, period: 'daily' };
    const keys = Array.from({ length: 5 }, id);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        admitOne(i % 2 ? b1 : b2, {
          amountNanoUsd: 1000n,
          budgets: [{ scope: 'key', id: keys[i % 5] ?? '', limitNanoUsd: 1_000_000n, period: 'total' }, team],
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(20);
  });

  it('settles to the real cost, once, and frees the difference', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 1000n, period: 'total' };
    const r1 = req();
    const admit = (requestId = req()) => admitOne(b, { requestId, tokens: 5, amountNanoUsd: 600n, budgets: [budget] });
    expect((await admit(r1)).ok).toBe(true);
    // 600 held: a second 600 does not fit
    expect((await admit()).ok).toBe(false);
    await b.settle([{ requestId: r1, costNanoUsd: 100n, tokens: 5 }]);
    await b.settle([{ requestId: r1, costNanoUsd: 100n, tokens: 5 }]); // a redelivered event: no effect
    expect(await b.read('key', budget.id, 'total')).toEqual({ spentNanoUsd: 100n, reservedNanoUsd: 0n });
    expect((await admit()).ok).toBe(true);
  });

  it('keeps large amounts exact (millions of USD in nano-USD)', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = {
      scope: 'team',
      id: id(),
      limitNanoUsd: 9_000_000_000_000_000n,
      period: 'total',
    };
    const [r1, r2] = [req(), req()];
    const admit = (requestId: string) => admitOne(b, { requestId, amountNanoUsd: 4_500_000_000_000_001n, budgets: [budget] });
    expect((await admit(r1)).ok).toBe(true);
    expect((await admit(r2)).ok).toBe(false);
    const alerts = await b.settle([{ requestId: r1, costNanoUsd: 4_500_000_000_000_001n, tokens: 1 }]);
    expect(alerts.map((a) => a.spentNanoUsd)).toEqual([4_500_000_000_000_001n]);
    expect(await b.read('team', budget.id, 'total')).toEqual({
      spentNanoUsd: 4_500_000_000_000_001n,
      reservedNanoUsd: 0n,
    });
  });

  it('alerts at 50, 80 and 100 %, each once per period', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'team', id: id(), limitNanoUsd: 1000n, period: 'monthly' };
    const spend = async (cost: bigint) => {
      const r = req();
      await admitOne(b, { requestId: r, budgets: [budget] });
      const alerts = await b.settle([{ requestId: r, costNanoUsd: cost, tokens: 1 }]);
      for (const a of alerts) await b.alertPublished(a); // what billing does once JetStream stored it (ADR 0018)
      return alerts;
    };
    expect(await spend(400n)).toEqual([]);
    expect((await spend(450n)).map((a) => a.thresholdPct)).toEqual([50, 80]);
    expect(await spend(10n)).toEqual([]);
    const last = await spend(200n);
    expect(last).toMatchObject([
      { thresholdPct: 100, scope: 'team', id: budget.id, spentNanoUsd: 1060n, limitNanoUsd: 1000n },
    ]);
    expect(await spend(1n)).toEqual([]);
  });

  it('a hold that is never settled expires (TTL backstop)', async () => {
    const b = new Budgets(redis, { prefix, holdTtlMs: 50 });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 100n, period: 'total' };
    const t = Date.now();
    const admit = (nowMs: number) => admitOne(b, { nowMs, amountNanoUsd: 100n, budgets: [budget] });
    expect((await admit(t)).ok).toBe(true);
    expect((await admit(t + 10)).ok).toBe(false);
    expect((await admit(t + 60)).ok).toBe(true);
  });

  it('rpm across two replicas admits exactly the limit, with remaining counts and retry-after', async () => {
    const scope: RateScope = { name: `key:${id()}`, rpm: 10, tpm: null, concurrent: null };
    const replicas = [new Budgets(redis, { prefix }), new Budgets(redis2, { prefix })];
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => admitOne(replicas[i % 2]!, { nowMs: now, rates: [scope] })),
    );
    const ok = results.filter((r) => r.ok);
    expect(ok).toHaveLength(10);
    expect(ok.map((r) => r.remainingRequests).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const denied = results.find((r) => !r.ok);
    expect(denied).toMatchObject({
      reason: 'rpm',
      scope: scope.name,
      limitRequests: 10,
      remainingRequests: 0,
    });
    expect(denied?.retryAfterMs).toBe(60_000);
    // the window slides: a minute later there is room again
    expect((await admitOne(replicas[0]!, { nowMs: now + 60_001, rates: [scope] })).ok).toBe(true);
  });

  it('tpm counts the estimate and is corrected by the real usage', async () => {
    const b = new Budgets(redis, { prefix });
    const scope: RateScope = { name: `team:${id()}`, rpm: null, tpm: 100, concurrent: null };
    const now = Date.now();
    const r1 = req();
    const admit = (tokens: number, requestId = req()) => admitOne(b, { requestId, nowMs: now, tokens, rates: [scope] });
    expect(await admit(80, r1)).toMatchObject({ ok: true, limitTokens: 100, remainingTokens: 20 });
    expect(await admit(30)).toMatchObject({ ok: false, reason: 'tpm', remainingTokens: 20 });
    await b.settle([{ requestId: r1, costNanoUsd: 0n, tokens: 40 }]);
    expect(await admit(30)).toMatchObject({ ok: true, remainingTokens: 30 });
  });

  it('caps concurrent requests; release frees a slot', async () => {
    const b = new Budgets(redis, { prefix });
    const scope: RateScope = { name: `key:${id()}`, rpm: null, tpm: null, concurrent: 2 };
    const [a, c] = [req(), req()];
    const admit = (requestId: string) => admitOne(b, { requestId, rates: [scope] });
    expect((await admit(a)).ok).toBe(true);
    expect((await admit(c)).ok).toBe(true);
    expect(await admit(req())).toMatchObject({ ok: false, reason: 'concurrency' });
    await b.release(a);
    expect((await admit(req())).ok).toBe(true);
  });

  it('nothing is written when one scope refuses (all or nothing)', async () => {
    const b = new Budgets(redis, { prefix });
    const rate: RateScope = { name: `key:${id()}`, rpm: 5, tpm: null, concurrent: null };
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 10n, period: 'total' };
    expect(await admitOne(b, { amountNanoUsd: 11n, rates: [rate], budgets: [budget] })).toMatchObject({ ok: false, reason: 'budget' });
    expect(await redis.zcard(`${prefix}:rl:${rate.name}:rpm`)).toBe(0);
  });

  it('a TPM count taken before a later scope refuses is given back (all or nothing)', async () => {
    const b = new Budgets(redis, { prefix });
    const rate: RateScope = { name: `key:${id()}`, rpm: null, tpm: 1000, concurrent: null };
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 10n, period: 'total' };
    const now = Date.now();
    const tpmKey = `${prefix}:rl:${rate.name}:tpm:${Math.floor(now / 60_000)}`;
    const admit = (amountNanoUsd: bigint, rates: RateScope[]) => admitOne(b, { nowMs: now, tokens: 300, amountNanoUsd, rates, budgets: [budget] });
    expect(await admit(5n, [rate])).toMatchObject({ ok: true, remainingTokens: 700 });
    expect(await redis.get(tpmKey)).toBe('300');
    const ttl = await redis.pttl(tpmKey);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    // the TPM check passes (600 ≤ 1000) and counts, then the budget refuses: the count is undone
    expect(await admit(6n, [rate])).toMatchObject({ ok: false, reason: 'budget' });
    expect(await redis.get(tpmKey)).toBe('300');
    // a second rate scope that refuses after the first one counted: undone as well
    const tight: RateScope = { name: `team:${id()}`, rpm: null, tpm: 100, concurrent: null };
    expect(await admit(1n, [rate, tight])).toMatchObject({ ok: false, reason: 'tpm', scope: tight.name });
    expect(await redis.get(tpmKey)).toBe('300');
    expect(await redis.get(`${prefix}:rl:${tight.name}:tpm:${Math.floor(now / 60_000)}`)).toBe('0');
    expect(await b.read('key', budget.id, 'total')).toEqual({ spentNanoUsd: 0n, reservedNanoUsd: 5n });
  });

  it('gives a budget period its TTL when it is created (end of the period + a day)', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'team', id: id(), limitNanoUsd: 1000n, period: 'daily' };
    const now = Date.now();
    const r = await admitOne(b, { nowMs: now, amountNanoUsd: 7n, budgets: [budget] });
    expect(r.ok).toBe(true);
    const key = `${prefix}:bud:team:${budget.id}:d${new Date(now).toISOString().slice(0, 10)}`;
    const end = Date.UTC(
      new Date(now).getUTCFullYear(),
      new Date(now).getUTCMonth(),
      new Date(now).getUTCDate() + 1,
    );
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(end - now + 86_400_000 - 5_000);
    expect(ttl).toBeLessThanOrEqual(end - now + 86_400_000);
  });

  it('a daily budget rolls over at midnight UTC within one Budgets instance', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 100n, period: 'daily' };
    const admit = (nowMs: number) => admitOne(b, { nowMs, amountNanoUsd: 100n, budgets: [budget] });
    const midnight = Date.UTC(2030, 0, 2);
    expect((await admit(midnight - 1)).ok).toBe(true);
    expect((await admit(midnight - 1)).ok).toBe(false); // the first day is full
    expect((await admit(midnight)).ok).toBe(true); // a new day, a new budget
    expect((await admit(midnight - 2)).ok).toBe(false); // and the day before is still full
  });

  it('a hold released by expiry is not released again when its request settles late', async () => {
    const b = new Budgets(redis, { prefix, holdTtlMs: 50 });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 100n, period: 'total' };
    const t = Date.now();
    const [r1, r2] = [req(), req()];
    const admit = (requestId: string, nowMs: number) => admitOne(b, { requestId, nowMs, amountNanoUsd: 60n, budgets: [budget] });
    expect((await admit(r1, t)).ok).toBe(true);
    expect((await admit(r2, t + 60)).ok).toBe(true); // r1's hold expired and was released to make room
    expect(await b.read('key', budget.id, 'total', t + 60)).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 60n,
    });
    await b.settle([{ requestId: r1, costNanoUsd: 30n, tokens: 1 }]); // r1's usage arrives after all
    expect(await b.read('key', budget.id, 'total', t + 60)).toEqual({
      spentNanoUsd: 30n,
      reservedNanoUsd: 60n,
    });
    await b.settle([{ requestId: r2, costNanoUsd: 40n, tokens: 1 }]);
    expect(await b.read('key', budget.id, 'total', t + 60)).toEqual({
      spentNanoUsd: 70n,
      reservedNanoUsd: 0n,
    });
  });

  it('READ releases expired holds on every budget of the request', async () => {
    const b = new Budgets(redis, { prefix, holdTtlMs: 50 });
    const key: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 1000n, period: 'monthly' };
    const team: BudgetScope = { scope: 'team', id: id(), limitNanoUsd: 1000n, period: 'monthly' };
    const t = Date.now();
    const r = await admitOne(b, { nowMs: t, amountNanoUsd: 250n, budgets: [key, team] });
    expect(r.ok).toBe(true);
    expect(await b.read('team', team.id, 'monthly', t + 10)).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 250n,
    });
    expect(await b.read('team', team.id, 'monthly', t + 60)).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 0n,
    });
    expect(await b.read('key', key.id, 'monthly', t + 60)).toEqual({ spentNanoUsd: 0n, reservedNanoUsd: 0n });
  });

  it('settles and purges holds taken by the layout before ADR 0016 (a rolling deploy)', async () => {
    // what the previous ADMIT wrote for a request holding 70 on a budget: the amount in B:h, the expiry in B:x,
    // `reserved` in B, and a record without `a`
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 100n, period: 'total' };
    const bkey = `${prefix}:bud:key:${budget.id}:t`;
    const t = Date.now();
    const oldHold = async (r: string, expiry: number) => {
      await redis.hincrby(bkey, 'reserved', 70);
      await redis.hset(`${bkey}:h`, r, '70');
      await redis.zadd(`${bkey}:x`, expiry, r);
      await redis.set(
        `${prefix}:req:${r}`,
        JSON.stringify({ b: [bkey], t: {}, c: {}, e: 1, lim: ['100'], ttl: [0] }),
        'PX',
        60_000,
      );
    };
    const [r1, r2] = [req(), req()];
    await oldHold(r1, t + 300_000);
    const admit = (nowMs: number) => admitOne(b, { nowMs, amountNanoUsd: 40n, budgets: [budget] });
    expect((await admit(t)).ok).toBe(false); // 70 + 40 > 100
    await b.settle([{ requestId: r1, costNanoUsd: 10n, tokens: 1 }]);
    expect(await b.read('key', budget.id, 'total', t)).toEqual({ spentNanoUsd: 10n, reservedNanoUsd: 0n });
    expect(await redis.hlen(`${bkey}:h`)).toBe(0);
    // an old hold that expires is released by the next ADMIT that it would refuse
    await oldHold(r2, t + 1_000);
    expect((await admit(t)).ok).toBe(false); // 10 + 70 + 40 > 100
    expect((await admit(t + 1_001)).ok).toBe(true); // expired: released, 10 + 40 fits
    expect(await b.read('key', budget.id, 'total', t + 1_001)).toEqual({
      spentNanoUsd: 10n,
      reservedNanoUsd: 40n,
    });
    await b.settle([{ requestId: r2, costNanoUsd: 5n, tokens: 1 }]); // late: its hold is not released twice
    expect(await b.read('key', budget.id, 'total', t + 1_001)).toEqual({
      spentNanoUsd: 15n,
      reservedNanoUsd: 40n,
    });
  });

  it('survives a script flush (NOSCRIPT → reload)', async () => {
    const b = new Budgets(redis, { prefix });
    await b.read('key', id(), 'total');
    await redis.script('FLUSH');
    expect(await b.read('key', id(), 'total')).toEqual({ spentNanoUsd: 0n, reservedNanoUsd: 0n });
  });

  it('settles after a script flush (the pipelined settle reloads on NOSCRIPT instead of failing every batch)', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 1000n, period: 'total' };
    const r1 = req();
    const r2 = req();
    for (const r of [r1, r2]) expect((await admitOne(b, { requestId: r, tokens: 5, amountNanoUsd: 400n, budgets: [budget] })).ok).toBe(true);
    await redis.script('FLUSH');
    await b.settle([
      { requestId: r1, costNanoUsd: 100n, tokens: 5 },
      { requestId: r2, costNanoUsd: 50n, tokens: 5 },
    ]);
    expect(await b.read('key', budget.id, 'total')).toEqual({ spentNanoUsd: 150n, reservedNanoUsd: 0n });
  });

  it('settle survives a script flush too (its pipeline reloads the scripts and settles once)', async () => {
    const b = new Budgets(redis, { prefix });
    const budget: BudgetScope = { scope: 'key', id: id(), limitNanoUsd: 1000n, period: 'total' };
    const r1 = req();
    expect((await admitOne(b, { requestId: r1, tokens: 5, amountNanoUsd: 600n, budgets: [budget] })).ok).toBe(true);
    await redis.script('FLUSH'); // the shas b cached are gone from Redis
    await expect(b.settle([{ requestId: r1, costNanoUsd: 100n, tokens: 5 }])).resolves.toEqual([]);
    expect(await b.read('key', budget.id, 'total')).toEqual({ spentNanoUsd: 100n, reservedNanoUsd: 0n });
  });
});
