import { randomBytes } from 'node:crypto';
import { Budgets, type AdmitResult, type BudgetScope, type RateScope } from '@gw/budgets';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsService } from '../metrics/metrics.service.js';
import type { IngressEnv } from '../config/env.js';
import type { Identity } from '../auth/identity.js';
import { NO_LIMITS, testIdentity } from '../testing/identity.js';
import { AdmissionPool, type SlotTemplate } from './admission-pool.js';
import { LimitsService } from './limits.service.js';

// Admissions taken ahead (ADR 0019) against the real Lua scripts on the real Redis, under a prefix of this file.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwpool${randomBytes(4).toString('hex')}`;
let redis: Redis;
let budgets: Budgets;
const pools: AdmissionPool[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  budgets = new Budgets(redis, { prefix, holdTtlMs: 60_000 });
});
afterAll(async () => {
  for (const p of pools) await p.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const id = () => randomBytes(6).toString('hex');
const AMOUNT = 1_000n;
const TOKENS = 50;
const until = async (ok: () => boolean | Promise<boolean>, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

function pool(over: Partial<ConstructorParameters<typeof AdmissionPool>[1]> = {}): AdmissionPool {
  const p = new AdmissionPool(budgets, { size: 3, ttlMs: 2_000, minHeadroomSlots: 100, ...over });
  pools.push(p);
  return p;
}

/** A first, per-request admission, as LimitsService makes it, offered to the pool. */
async function first(p: AdmissionPool, key: string, t: SlotTemplate): Promise<AdmitResult> {
  const r = await budgets.admit({ requestId: `req-${id()}`, nowMs: Date.now(), ...t });
  expect(r.ok).toBe(true);
  p.offer(key, t, r);
  return r;
}

const budget = (limitNanoUsd: bigint): BudgetScope => ({ scope: 'key', id: id(), limitNanoUsd, period: 'monthly' });
const rate = (over: Partial<RateScope> = {}): RateScope => ({ name: `key:${id()}`, rpm: null, tpm: null, concurrent: null, ...over });

describe('admissions taken ahead (real Redis)', () => {
  it('far from every limit: slots are real admissions, held in Redis before any request takes one, and refilled', async () => {
    const p = pool();
    const b = budget(1_000_000_000n);
    const r = rate({ rpm: 100_000, tpm: 10_000_000 });
    const t: SlotTemplate = { rates: [r], budgets: [b], tokens: TOKENS, amountNanoUsd: AMOUNT };
    await first(p, 'k1', t);
    await until(() => p.stats().slots === 3);
    // the first request's amount + three slots' amounts are held; the slots are in the RPM log and the TPM count
    expect((await budgets.read('key', b.id, 'monthly')).reservedNanoUsd).toBe(4n * AMOUNT);
    expect(await redis.zcard(`${prefix}:rl:${r.name}:rpm`)).toBe(4);
    const slot = p.take('k1', AMOUNT, TOKENS);
    expect(slot?.id).toMatch(/^slot-/);
    expect(slot?.headers['x-ratelimit-limit-requests']).toBe('100000');
    // logged in the RPM window as of the latest moment it may be used: it leaves the window no earlier than its request
    const score = Number(await redis.zscore(`${prefix}:rl:${r.name}:rpm`, slot!.id));
    expect(score).toBeGreaterThanOrEqual(slot!.at + 2_000);
    await until(() => p.stats().slots === 3); // taken → one more admitted ahead
    expect((await budgets.read('key', b.id, 'monthly')).reservedNanoUsd).toBe(5n * AMOUNT);
    // the request that took it is settled under the slot's id: its real cost is spent, its hold released
    await budgets.settle([{ requestId: slot!.id, costNanoUsd: 300n, tokens: 20 }]);
    expect(await budgets.read('key', b.id, 'monthly')).toEqual({ spentNanoUsd: 300n, reservedNanoUsd: 4n * AMOUNT });
  });

  it('a slot serves only a request it covers, within its time and its clock minute', async () => {
    let now = Date.UTC(2026, 10, 23, 12, 0, 50);
    const p = pool({ now: () => now, ttlMs: 5_000 });
    const t: SlotTemplate = { rates: [rate({ rpm: 100_000 })], budgets: [budget(1_000_000_000n)], tokens: TOKENS, amountNanoUsd: AMOUNT };
    await first(p, 'k2', t);
    await until(() => p.stats().slots === 3);
    expect(p.take('k2', AMOUNT + 1n, TOKENS)).toBeNull(); // costs more than a slot holds
    expect(p.take('k2', AMOUNT, TOKENS + 1)).toBeNull(); // more tokens than a slot counted
    expect(p.take('other', AMOUNT, TOKENS)).toBeNull(); // another key's or limits' pool
    now += 11_000; // 12:01:01: the TPM minute and a budget period may have turned: a slot of 12:00 is not used
    expect(p.take('k2', AMOUNT, TOKENS)).toBeNull();
  });

  it('a slot nobody takes is given back: its amount released, its tokens returned, its record gone', async () => {
    const p = pool({ ttlMs: 200 });
    const b = budget(1_000_000_000n);
    const r = rate({ tpm: 10_000_000 });
    const t: SlotTemplate = { rates: [r], budgets: [b], tokens: TOKENS, amountNanoUsd: AMOUNT };
    const admitted = await first(p, 'k3', t);
    expect(admitted.ok).toBe(true);
    await until(() => p.stats().slots === 3);
    expect((await budgets.read('key', b.id, 'monthly')).reservedNanoUsd).toBe(4n * AMOUNT);
    await until(() => p.stats().pools === 0, 2_000);
    await until(async () => (await budgets.read('key', b.id, 'monthly')).reservedNanoUsd === AMOUNT); // the request's own
    const tpm = await redis.keys(`${prefix}:rl:${r.name}:tpm:*`);
    expect(Number(await redis.get(tpm[0]!))).toBe(TOKENS); // only the first request's tokens stay counted
  });

  it('near a limit nothing is taken ahead: requests, tokens, budget headroom, and any concurrency limit', async () => {
    const p = pool();
    const cases: Array<[string, SlotTemplate]> = [
      ['rpm', { rates: [rate({ rpm: 100 })], budgets: [], tokens: TOKENS, amountNanoUsd: AMOUNT }],
      ['tpm', { rates: [rate({ tpm: 100 * TOKENS })], budgets: [], tokens: TOKENS, amountNanoUsd: AMOUNT }],
      ['budget', { rates: [], budgets: [budget(50n * AMOUNT)], tokens: TOKENS, amountNanoUsd: AMOUNT }],
      ['concurrency', { rates: [rate({ concurrent: 1_000 })], budgets: [], tokens: TOKENS, amountNanoUsd: AMOUNT }],
    ];
    for (const [k, t] of cases) await first(p, k, t);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.stats()).toEqual({ pools: 0, slots: 0, inflight: 0 });
  });

  it('a budget spent elsewhere stops the taking ahead: a refused slot leaves nothing held', async () => {
    const p = pool({ size: 2, minHeadroomSlots: 1 });
    const b = budget(4n * AMOUNT);
    const t: SlotTemplate = { rates: [], budgets: [b], tokens: TOKENS, amountNanoUsd: AMOUNT };
    await first(p, 'k5', t); // 1 held; headroom 3 ≥ 1 slot: two slots asked for
    await until(() => p.stats().inflight === 0);
    expect(p.stats().slots).toBe(2);
    expect((await budgets.read('key', b.id, 'monthly')).reservedNanoUsd).toBe(3n * AMOUNT);
    // another replica takes the last amount; the next refill is refused and the pool stops asking
    expect((await budgets.admit({ requestId: `req-${id()}`, nowMs: Date.now(), ...t })).ok).toBe(true);
    expect(p.take('k5', AMOUNT, TOKENS)).not.toBeNull();
    await until(() => p.stats().inflight === 0);
    expect(p.take('k5', AMOUNT, TOKENS)).not.toBeNull();
    await until(() => p.stats().inflight === 0);
    expect(p.take('k5', AMOUNT, TOKENS)).toBeNull();
    expect((await budgets.read('key', b.id, 'monthly')).reservedNanoUsd).toBe(4n * AMOUNT); // never more than the limit
  });
});

describe('LimitsService with admissions taken ahead', () => {
  const env = {
    BUDGET_DEFAULT_MAX_OUTPUT_TOKENS: 100,
    ADMISSION_PREFETCH: 2,
    ADMISSION_PREFETCH_TTL_MS: 1_000,
    ADMISSION_PREFETCH_MIN_HEADROOM: 100,
  } as IngressEnv;
  const settings = {
    models: [{ name: 'm', targets: [{ provider: 'p', model: 'm', price: { inputPerMTok: 1, outputPerMTok: 2 } }] }],
  } as unknown as ConstructorParameters<typeof LimitsService>[2];
  const none = NO_LIMITS;
  const identity = (over: Partial<Identity>): Identity => testIdentity({ keyId: `key_${id()}`, teamId: `team_${id()}`, ...over });


  it('the first request admits itself; the next ones take admissions made ahead and say so (admissionId)', async () => {
    const limits = new LimitsService(budgets, env, settings, new MetricsService());
    try {
      const who = identity({ keyBudget: { limitNanoUsd: 10n ** 12n, period: 'monthly' }, keyLimits: { ...none, rpm: 1_000_000 } });
      const input = (requestId: string) => ({ requestId, identity: who, model: 'm', bodyBytes: 200, maxOutputTokens: 10, inputImages: 0 });
      const a = await limits.admit(input('r-1'));
      expect(a.admissionId).toBe('r-1');
      await until(() => limits.pool!.stats().slots === 2);
      const b = await limits.admit(input('r-2'));
      expect(b.admissionId).toMatch(/^slot-/);
      expect(b.headers['x-ratelimit-limit-requests']).toBe('1000000');
      expect(b.release).toBe(false);
      // a key with a concurrency limit always admits itself (a slot would hold a place while it waits)
      const conc = identity({ keyLimits: { ...none, maxConcurrent: 1_000 } });
      const c1 = await limits.admit({ ...input('r-3'), identity: conc });
      await new Promise((r) => setTimeout(r, 50));
      const c2 = await limits.admit({ ...input('r-4'), identity: conc });
      expect([c1.admissionId, c2.admissionId, c2.release]).toEqual(['r-3', 'r-4', true]);
    } finally {
      await limits.onModuleDestroy();
    }
    expect(limits.pool!.stats().slots).toBe(0);
  });
});
