import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Budgets, type BudgetScope } from './budgets.js';

// Real Redis (shared with other suites): every key of this file lives under a fresh prefix. ADR 0018: an alert is
// reported until billing marks it published, so a publish that never happened is not lost.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtestal${randomBytes(4).toString('hex')}`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const id = () => randomBytes(6).toString('hex');
let seq = 0;
const budgetOf = (limitNanoUsd: bigint): BudgetScope => ({ scope: 'team', id: id(), limitNanoUsd, period: 'total' });
const keyOf = (budget: BudgetScope) => `${prefix}:bud:${budget.scope}:${budget.id}:t`;

/** One request admitted on the budget and settled at `cost`: the alerts the settlement reports. */
async function spend(b: Budgets, budget: BudgetScope, cost: bigint) {
  const requestId = `req-${++seq}-${id()}`;
  const admitted = await b.admit({ requestId, nowMs: Date.now(), tokens: 1, amountNanoUsd: 0n, rates: [], budgets: [budget] });
  expect(admitted.ok).toBe(true);
  return b.settle([{ requestId, costNanoUsd: cost, tokens: 1 }]);
}

describe('budget alerts until published (Lua on real Redis)', () => {
  it('a threshold not marked published is reported by every later settlement, with the figures of its crossing', async () => {
    const b = new Budgets(redis, { prefix });
    const budget = budgetOf(1000n);
    const first = await spend(b, budget, 600n);
    expect(first).toEqual([
      { budgetKey: keyOf(budget), scope: 'team', id: budget.id, periodId: 't', thresholdPct: 50, spentNanoUsd: 600n, limitNanoUsd: 1000n },
    ]);
    // billing died (or the publish failed) before the mark: the next settlement on the budget reports it again,
    // unchanged (the same alert id and body), together with the 80 % it crosses now
    const second = await spend(b, budget, 300n);
    expect(second.map((a) => [a.thresholdPct, a.spentNanoUsd])).toEqual([
      [50, 600n],
      [80, 900n],
    ]);
    await b.alertPublished(second[0]!);
    expect((await spend(b, budget, 10n)).map((a) => [a.thresholdPct, a.spentNanoUsd])).toEqual([[80, 900n]]);
    await b.alertPublished(second[1]!);
    expect(await spend(b, budget, 10n)).toEqual([]);
    // marking is idempotent (two billing replicas published the same alert)
    await b.alertPublished(second[1]!);
    expect(await redis.hgetall(keyOf(budget))).toMatchObject({ a50: '1', a80: '1', spent: '920' });
    expect(await redis.hexists(keyOf(budget), 'p50')).toBe(0);
  });

  it('marks set before ADR 0018 (a50/a80/a100 at the crossing) mean done: no alert again after a rolling deploy', async () => {
    const b = new Budgets(redis, { prefix });
    const budget = budgetOf(1000n);
    expect((await spend(b, budget, 850n)).map((a) => a.thresholdPct)).toEqual([50, 80]);
    // what the previous SETTLE left: the thresholds marked as they fired (and published by the billing of then)
    await redis.hdel(keyOf(budget), 'p50', 'p80');
    await redis.hset(keyOf(budget), 'a50', '1', 'a80', '1');
    await redis.zrem(`${prefix}:alerts`, `${keyOf(budget)}|50`, `${keyOf(budget)}|80`);
    expect(await spend(b, budget, 10n)).toEqual([]);
    expect(await b.pendingAlerts(0)).not.toContainEqual(expect.objectContaining({ id: budget.id }));
    expect((await spend(b, budget, 200n)).map((a) => a.thresholdPct)).toEqual([100]);
  });

  it('pendingAlerts lists the alerts crossed long enough ago and not published, for budgets no settlement touches', async () => {
    const b = new Budgets(redis, { prefix });
    const full = budgetOf(100n);
    const [alert] = await spend(b, full, 100n).then((a) => a.filter((x) => x.thresholdPct === 100));
    const ours = async (olderThanMs: number, nowMs?: number) =>
      (await b.pendingAlerts(olderThanMs, nowMs))
        .filter((a) => a.id === full.id)
        .map((a) => a.thresholdPct)
        .sort((x, y) => x - y);
    expect(await ours(60_000)).toEqual([]); // crossed just now: maybe still being published
    expect(await ours(60_000, Date.now() + 61_000)).toEqual([50, 80, 100]);
    expect((await b.pendingAlerts(0)).find((a) => a.id === full.id && a.thresholdPct === 100)).toEqual(alert);
    await b.alertPublished(alert!);
    expect(await ours(0)).toEqual([50, 80]);
    // the budget's period ended and its hash expired: its alerts leave the list, and a late mark does not
    // create the hash again (it would live forever, without a TTL)
    await redis.del(keyOf(full));
    expect(await ours(0)).toEqual([]);
    expect(await redis.zscore(`${prefix}:alerts`, `${keyOf(full)}|50`)).toBeNull();
    await b.alertPublished({ budgetKey: keyOf(full), thresholdPct: 50 });
    expect(await redis.exists(keyOf(full))).toBe(0);
  });

  it('a pending mark that is not "<spent> <limit>" is skipped, the other alerts stay whole', async () => {
    const b = new Budgets(redis, { prefix });
    const budget = budgetOf(1000n);
    await spend(b, budget, 600n);
    await redis.hset(keyOf(budget), 'p50', 'garbage');
    expect(await spend(b, budget, 300n)).toEqual([
      { budgetKey: keyOf(budget), scope: 'team', id: budget.id, periodId: 't', thresholdPct: 80, spentNanoUsd: 900n, limitNanoUsd: 1000n },
    ]);
    expect((await b.pendingAlerts(0)).filter((a) => a.id === budget.id).map((a) => a.thresholdPct)).toEqual([80]);
    expect(await redis.zscore(`${prefix}:alerts`, `${keyOf(budget)}|50`)).toBeNull();
  });

  it('pendingAlerts returns at most `max` alerts, the oldest first', async () => {
    const b = new Budgets(redis, { prefix: `${prefix}max` });
    const budgets = [budgetOf(10n), budgetOf(10n)];
    await spend(b, budgets[0]!, 6n); // 50 %
    await new Promise((r) => setTimeout(r, 5));
    await spend(b, budgets[1]!, 6n);
    expect((await b.pendingAlerts(0, Date.now(), 1)).map((a) => a.id)).toEqual([budgets[0]!.id]);
    await redis.del(`${prefix}max:alerts`, `${prefix}max:bud:team:${budgets[0]!.id}:t`, `${prefix}max:bud:team:${budgets[1]!.id}:t`);
  });
});
