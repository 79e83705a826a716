import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_CONFIG, sql, startAlertHook, until, BUDGET_PROBE, PAID } from './helpers.js';

/**
 * Issue 5, done when: 200 parallel requests at a key (and at a team of 5 keys) whose budget fits exactly 20 of them →
 * at most 20 succeed, and the spend the ledger settled is within the budget. Real stack: ingress reserves the
 * worst case in Redis, the executor calls the simulator, billing stores the usage and settles the reservation.
 * Each threshold the settlement crosses reaches the webhook once: billing → JetStream → worker → POST.
 */
describe('budgets that cannot be overshot', () => {
  let stack: Stack;
  let costOfOne = 0n;
  const body = BUDGET_PROBE;
  const paid = PAID;

  const admin = async (path: string, payload: unknown): Promise<{ id: string; key?: string }> => {
    const res = await fetch(`${stack.ingressUrl}/admin/v1/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; key?: string };
  };
  const client = (key: string) =>
    new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  const settled = async (column: 'key_id' | 'team_id', id: string, requests: number): Promise<bigint> => {
    const row = await until(
      `${requests} usage rows`,
      async () => {
        const r = await sql<{ n: string; cost: string | null }>(
          stack.databaseUrl,
          `SELECT count(*)::text AS n, sum(cost_nano_usd)::text AS cost FROM billing.usage_records WHERE ${column} = $1`,
          [id],
        );
        return r[0]?.n === String(requests) ? r[0] : null;
      },
      60_000,
    );
    return BigInt(row.cost ?? '0');
  };

  /** 200 requests at once; returns how many were answered, and checks every refusal is a 429 budget_exceeded. */
  const fire = async (keys: string[]): Promise<number> => {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => client(keys[i % keys.length]!).chat.completions.create(body, paid)),
    );
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(OpenAI.RateLimitError);
        expect((r.reason as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
      }
    }
    return results.filter((r) => r.status === 'fulfilled').length;
  };

  /** the budget alerts webhook: every body it received, with the alert id header */
  let hook: Awaited<ReturnType<typeof startAlertHook>> | undefined;
  const alertsFor = (id: string) => (hook?.hits ?? []).filter((a) => a.body.id === id);

  beforeAll(async () => {
    hook = await startAlertHook();
    stack = await startStack({ configYaml: SIM_CONFIG, env: { BUDGET_ALERT_WEBHOOK_URL: hook.url } });
    // what one such request really costs (the simulator answers the same prompt the same way)
    const probe = await stack.createKey();
    await client(probe.key).chat.completions.create(body, paid);
    costOfOne = await settled('key_id', probe.keyId, 1);
    expect(costOfOne).toBeGreaterThan(0n);
  });
  afterAll(async () => {
    await stack?.close();
    await hook?.close();
  });

  /** The thresholds a settled spend crossed reach the webhook, each exactly once (and no other). */
  const expectAlerts = async (id: string, spentNanoUsd: bigint, budgetNanoUsd: bigint): Promise<number[]> => {
    const expected = [50, 80, 100].filter((p) => spentNanoUsd * 100n >= budgetNanoUsd * BigInt(p));
    if (expected.length > 0) {
      await until(`alerts ${expected.join(', ')} for ${id}`, async () => (alertsFor(id).length >= expected.length ? true : null), 30_000);
    }
    await new Promise((r) => setTimeout(r, 1_500)); // nothing more, nothing twice
    expect(alertsFor(id).map((a) => a.body.thresholdPct).sort((a, b) => a - b)).toEqual(expected);
    expect(new Set(alertsFor(id).map((a) => a.id)).size).toBe(expected.length);
    for (const a of alertsFor(id)) expect(BigInt(a.body.budgetUsd.replace('.', ''))).toBe(budgetNanoUsd); // nine decimals
    return expected;
  };

  it('a key whose budget fits exactly 20 requests: at most 20 of 200 succeed, settled spend ≤ budget', async () => {
    const budget = costOfOne * 20n;
    const team = await admin('teams', { name: `key-budget-${Date.now()}` });
    const key = await admin('keys', {
      teamId: team.id,
      name: 'budgeted',
      budgetUsd: Number(budget) / 1e9,
      budgetPeriod: 'monthly',
    });
    const ok = await fire([key.key!]);
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(20);
    const spent = await settled('key_id', key.id, ok);
    expect(spent).toBeLessThanOrEqual(budget);
    await expectAlerts(key.id, spent, budget);
  }, 180_000);

  it('a team budget shared by 5 keys: the same', async () => {
    const budget = costOfOne * 20n;
    const team = await admin('teams', {
      name: `team-budget-${Date.now()}`,
      budgetUsd: Number(budget) / 1e9,
      budgetPeriod: 'daily',
    });
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push((await admin('keys', { teamId: team.id, name: `k${i}` })).key!);
    const ok = await fire(keys);
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(20);
    const spent = await settled('team_id', team.id, ok);
    expect(spent).toBeLessThanOrEqual(budget);
    await expectAlerts(team.id, spent, budget);
  }, 180_000);

  it('a key far from its limits takes admissions made ahead; billing settles each under its admission: nothing stays held', async () => {
    const admitted = async (path: 'own' | 'ahead'): Promise<number> => {
      const text = await (await fetch(`${stack.ingressUrl}/metrics`)).text();
      const m = new RegExp(`^gw_ingress_admissions_total\\{path="${path}"\\} (\\d+)`, 'm').exec(text);
      return Number(m?.[1] ?? 0);
    };
    const team = await admin('teams', { name: `far-${Date.now()}` });
    const key = await admin('keys', { teamId: team.id, name: 'far', budgetUsd: 1000, budgetPeriod: 'monthly', rpm: 100_000 });
    const ahead0 = await admitted('ahead');
    for (let i = 0; i < 30; i++) {
      await client(key.key!).chat.completions.create(body, paid);
      await new Promise((r) => setTimeout(r, 5)); // room for the admissions taken ahead to land
    }
    expect((await admitted('ahead')) - ahead0).toBeGreaterThanOrEqual(20);
    const spent = await settled('key_id', key.id, 30);
    expect(spent).toBe(costOfOne * 30n);
    // every request settled under the id its hold was taken under, and the slots nobody took were given back
    const held = async () => {
      const res = await fetch(`${stack.billingUrl}/billing/v1/budgets`, { headers: { authorization: `Bearer ${stack.masterKey}` } });
      const row = ((await res.json()) as { data: Array<{ id: string; reservedUsd: string; spentUsd: string }> }).data.find((b) => b.id === key.id);
      return row?.reservedUsd === '0.000000000' ? row : null;
    };
    const row = await until('nothing held on the budget', held, 15_000);
    expect(BigInt(row.spentUsd.replace('.', ''))).toBe(spent);
  }, 120_000);

  it('requests one after the other until the budget refuses: the thresholds crossed reach the webhook once each', async () => {
    const budget = costOfOne * 20n;
    const team = await admin('teams', { name: `alert-budget-${Date.now()}` });
    const key = await admin('keys', { teamId: team.id, name: 'alerts', budgetUsd: Number(budget) / 1e9, budgetPeriod: 'monthly' });
    let ok = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await client(key.key!).chat.completions.create(body, paid);
      } catch (err) {
        expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
        break;
      }
      ok++;
      await settled('key_id', key.id, ok); // billing stored it (and settles right after)
    }
    const spent = await settled('key_id', key.id, ok);
    const fired = await expectAlerts(key.id, spent, budget);
    expect(fired.length).toBeGreaterThan(0); // the reservation is at most half the budget: 50 % at least
  }, 180_000);
});
