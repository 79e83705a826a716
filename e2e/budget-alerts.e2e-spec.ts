import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_CONFIG, sql, startAlertHook, until, BUDGET_PROBE, PAID } from './helpers.js';

/**
 * ADR 0018: a budget alert is not lost when billing dies between the settlement (threshold crossed, in Redis) and
 * JetStream storing the alert. Real stack; the publish is made to fail for real (the ALERTS stream is replaced by
 * one that does not take the alert subject), billing is SIGKILLed while it retries, the stream is repaired (the
 * worker's restart creates it again, with its retention) and billing started again: its resend sweep publishes the
 * alert, and the webhook receives it exactly once.
 */
describe('budget alerts survive billing dying before the publish', () => {
  let stack: Stack;
  let nc: NatsConnection;
  let costOfOne = 0n;
  const body = BUDGET_PROBE;
  const paid = PAID;
  let hook: Awaited<ReturnType<typeof startAlertHook>> | undefined;
  const hits = () => hook?.hits ?? [];

  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  const rows = async (keyId: string, n: number): Promise<bigint> => {
    const row = await until(
      `${n} usage rows`,
      async () => {
        const r = await sql<{ n: string; cost: string | null }>(
          stack.databaseUrl,
          'SELECT count(*)::text AS n, sum(cost_nano_usd)::text AS cost FROM billing.usage_records WHERE key_id = $1',
          [keyId],
        );
        return r[0]?.n === String(n) ? r[0] : null;
      },
      60_000,
    );
    return BigInt(row.cost ?? '0');
  };

  beforeAll(async () => {
    hook = await startAlertHook();
    stack = await startStack({
      configYaml: SIM_CONFIG,
      // LOG_LEVEL log: billing's "budget … reached 50 %" line tells when the settlement has reported the alert
      env: { BUDGET_ALERT_WEBHOOK_URL: hook.url, BUDGET_ALERT_RESEND_MS: '2000', LOG_LEVEL: 'log' },
    });
    nc = await connect({ servers: stack.natsUrl });
    const probe = await stack.createKey();
    await client(probe.key).chat.completions.create(body, paid);
    costOfOne = await rows(probe.keyId, 1);
    expect(costOfOne).toBeGreaterThan(0n);
  });
  afterAll(async () => {
    await nc?.drain();
    await stack?.close();
    await hook?.close();
  });

  it('billing SIGKILLed while the publish fails: after the restart the alert reaches the webhook once, with its id', async () => {
    const jsm = await jetstreamManager(nc);
    // the worker created ALERTS at boot with its retention (ALERTS_MAX_AGE_MS: 7 days by default)
    expect((await jsm.streams.info('ALERTS')).config).toMatchObject({ max_age: 7 * 86_400_000 * 1_000_000, max_msgs: 1_000_000 });
    // a stream named ALERTS that does not take the alert subject: billing's publish gets "no responders", for real
    await jsm.streams.delete('ALERTS');
    await jsm.streams.add({ name: 'ALERTS', subjects: ['e2e.not.the.alerts'] });

    const budget = costOfOne * 10n;
    const team = await stack.createKey();
    const res = await fetch(`${stack.ingressUrl}/admin/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ teamId: team.teamId, name: 'alerts', budgetUsd: Number(budget) / 1e9, budgetPeriod: 'monthly' }),
    });
    expect(res.status).toBe(201);
    const key = (await res.json()) as { id: string; key: string };
    for (let i = 1; i <= 5; i++) {
      await client(key.key).chat.completions.create(body, paid);
      await rows(key.id, i);
    }
    // the fifth settlement crossed 50 %: billing logs the alert as it hands it to the publisher, whose attempts fail
    await until('the settlement to report 50 %', async () => stack.processes.logsOf('billing').includes(`${key.id} (m`) || null, 10_000);
    await stack.stop('billing', 'SIGKILL');
    expect(stack.processes.logsOf('billing')).not.toMatch(new RegExp(`budget alert budget:key:${key.id}:\\S+ not published`));

    // repair: the impostor goes, the worker's restart creates ALERTS (and its consumer) again, billing comes back
    await jsm.streams.delete('ALERTS');
    await stack.stop('worker');
    await stack.start('worker');
    await until('the worker to recreate ALERTS', async () => (await jsm.streams.info('ALERTS').catch(() => null))?.config.subjects.includes('worker.evt.budget-alert.v1') ?? null, 30_000);
    await stack.start('billing');

    const id = `budget:key:${key.id}:m${new Date().toISOString().slice(0, 7)}:50`;
    await until('the 50 % alert at the webhook', async () => hits().some((h) => h.id === id) || null, 30_000);
    // a later settlement on the budget (60 %) and two more resend sweeps: nothing again
    await client(key.key).chat.completions.create(body, paid);
    await rows(key.id, 6);
    await new Promise((r) => setTimeout(r, 4_500));
    const ours = hits().filter((h) => h.body.id === key.id);
    expect(ours.map((h) => h.id)).toEqual([id]);
    expect(ours[0]!.body).toMatchObject({ thresholdPct: 50, spentUsd: expect.stringMatching(/^\d+\.\d{9}$/) });
    expect(BigInt(ours[0]!.body.spentUsd.replace('.', ''))).toBe(costOfOne * 5n); // the figures of the crossing
  }, 180_000);
});
