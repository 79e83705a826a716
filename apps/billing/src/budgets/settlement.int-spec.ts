import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Budgets } from '@gw/budgets';
import { BudgetAlertEvent, budgetAlertId, type UsageEvent } from '@gw/contracts';
import { connectNats, decodeJson, DurablePublisher } from '@gw/transport';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../config/env.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AlertPublisher } from './alert.publisher.js';
import { SettlementService } from './settlement.service.js';

// Real Redis (a fresh key prefix) and real NATS JetStream (a stream and subject of this file's own): billing
// publishes each alert durably; the worker's delivery to the webhook is tested in apps/worker. The loss window
// between SETTLE and JetStream storing the alert (ADR 0018): a failing publish is a real one (a closed NATS
// connection), a billing that died after SETTLE is SETTLE run without publishing what it reported.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const prefix = `gwsettle${randomBytes(4).toString('hex')}`;
const target = { stream: `TEST_ALERTS_${prefix}`, subject: `test.${prefix}.evt.budget-alert.v1` };
let redis: Redis;
let nc: NatsConnection;
let alerts: AlertPublisher;
let metrics: MetricsService;
let service: SettlementService;
const services: SettlementService[] = [];

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  nc = await connectNats(NATS_URL, 'settlement-int-spec');
  ({ service, alerts, metrics } = billing());
});
afterAll(async () => {
  for (const s of services) await s.onApplicationShutdown();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(target.stream).catch(() => undefined);
  await nc.drain();
});

const env = loadEnv({ GATEWAY_MASTER_KEY: 'x'.repeat(16), REDIS_URL, REDIS_PREFIX: prefix, BUDGET_ALERT_RESEND_MS: '300' });

/** A billing replica: its settlement and its alert publisher, over the given NATS connection (default: the test's). */
function billing(conn?: NatsConnection) {
  const m = new MetricsService();
  const a = new AlertPublisher(new DurablePublisher(conn ?? nc), m, target);
  const s = new SettlementService(env, a);
  services.push(s);
  const count = async (result: 'ok' | 'failed') =>
    (await m.alertsPublished.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { service: s, alerts: a, metrics: m, count };
}

/** Every message stored in the test's alert stream: its message id and its body. */
async function stored(): Promise<Array<{ msgId: string | undefined; body: unknown }>> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(target.stream).catch(() => null); // none yet: nothing published
  if (!info) return [];
  const { state } = info;
  const out: Array<{ msgId: string | undefined; body: unknown }> = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(target.stream, { seq });
    if (m) out.push({ msgId: m.header.get('Nats-Msg-Id') || undefined, body: decodeJson(m.data) });
  }
  return out;
}

/** The stored alerts of one budget id. */
const storedFor = async (id: string) =>
  (await stored()).filter((m) => (m.body as BudgetAlertEvent).id === id) as Array<{ msgId: string; body: BudgetAlertEvent }>;

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Admits `n` requests on a fresh team budget of 1000 nano-USD for all time (as the ingress does): their ids. */
async function admitted(teamId: string, n: number): Promise<string[]> {
  const ingress = new Budgets(redis, { prefix });
  const ids = Array.from({ length: n }, (_, i) => `req-${i}-${randomBytes(4).toString('hex')}`);
  for (const requestId of ids) {
    const r = await ingress.admit({
      requestId,
      nowMs: Date.now(),
      tokens: 1,
      amountNanoUsd: 0n,
      rates: [],
      budgets: [{ scope: 'team', id: teamId, limitNanoUsd: 1_000n, period: 'total' }],
    });
    expect(r.ok).toBe(true);
  }
  return ids;
}

function usage(requestId: string, costNanoUsd: bigint, teamId = 'team_1'): UsageEvent {
  return {
    requestId,
    occurredAt: Date.now(),
    orgId: null,
    teamId,
    keyId: 'key_1',
    endUser: null,
    requestedModel: 'm',
    providerId: 'sim',
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    inputImages: 0,
    costNanoUsd: costNanoUsd.toString(),
    latencyMs: 1,
    cacheStatus: 'miss',
    status: 'ok',
    errorCode: null,
    usageEstimated: false,
    stream: false,
    tags: {},
    attempts: 1,
    mode: 'live',
    routing: null,
  };
}

describe('settlement after the ledger commit', () => {
  it('settles reservations to the real cost once, and publishes each threshold once to JetStream for the worker', async () => {
    const ingress = new Budgets(redis, { prefix });
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const budget = { scope: 'team' as const, id: teamId, limitNanoUsd: 1_000n, period: 'monthly' as const };
    const ids = Array.from({ length: 4 }, (_, i) => `req-${i}-${randomBytes(4).toString('hex')}`);
    for (const id of ids) {
      expect(
        (
          await ingress.admit({
            requestId: id,
            nowMs: Date.now(),
            tokens: 20,
            amountNanoUsd: 250n,
            rates: [],
            budgets: [budget],
          })
        ).ok,
      ).toBe(true);
    }
    expect(await ingress.read('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 0n,
      reservedNanoUsd: 1_000n,
    });
    // a batch, then the same batch redelivered
    const batch = ids.slice(0, 3).map((id) => usage(id, 200n));
    await service.settle(batch);
    await service.settle(batch);
    expect(await service.reserved('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 600n,
      reservedNanoUsd: 250n,
    });
    await service.settle([usage(ids[3] ?? '', 400n)]);
    expect(await service.reserved('team', teamId, 'monthly')).toEqual({
      spentNanoUsd: 1_000n,
      reservedNanoUsd: 0n,
    });
    await alerts.settled();
    const messages = await stored();
    expect(messages.map((m) => BudgetAlertEvent.parse(m.body).thresholdPct).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    const full = messages.find((m) => (m.body as BudgetAlertEvent).thresholdPct === 100);
    // the body the webhook will receive, key for key and in this order
    expect(JSON.stringify(full?.body)).toBe(
      JSON.stringify({
        type: 'budget.threshold',
        scope: 'team',
        id: teamId,
        period: `m${new Date().toISOString().slice(0, 7)}`,
        thresholdPct: 100,
        spentUsd: '0.000001000',
        budgetUsd: '0.000001000',
      }),
    );
    // message id = budget + period + threshold
    for (const m of messages) expect(m.msgId).toBe(budgetAlertId(BudgetAlertEvent.parse(m.body)));
    expect((await metrics.alertsPublished.get()).values.find((v) => v.labels.result === 'ok')?.value).toBe(3);
  });

  it('an event whose request took an admission made ahead settles the holds under that admission id (ADR 0019)', async () => {
    const ingress = new Budgets(redis, { prefix });
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const budget = { scope: 'team' as const, id: teamId, limitNanoUsd: 1_000_000n, period: 'monthly' as const };
    const slotId = `slot-${randomBytes(4).toString('hex')}`;
    expect((await ingress.admit({ requestId: slotId, nowMs: Date.now(), tokens: 20, amountNanoUsd: 500n, rates: [], budgets: [budget] })).ok).toBe(true);
    const event = { ...usage(`req-${randomBytes(4).toString('hex')}`, 120n, teamId), admissionId: slotId };
    await service.settle([event]);
    await service.settle([event]); // redelivered: settled once
    expect(await service.reserved('team', teamId, 'monthly')).toEqual({ spentNanoUsd: 120n, reservedNanoUsd: 0n });
  });

  it('an alert published twice (reported again before its mark) is stored once, and not published twice at once', async () => {
    const alert: BudgetAlertEvent = {
      type: 'budget.threshold',
      scope: 'key',
      id: `key_${randomBytes(4).toString('hex')}`,
      period: 'd2026-11-23',
      thresholdPct: 80,
      spentUsd: '0.800000000',
      budgetUsd: '1.000000000',
    };
    const before = (await stored()).length;
    expect(alerts.publish(alert)).toBe(true);
    expect(alerts.publish(alert)).toBe(false); // already being published here: not twice at once
    await alerts.settled();
    expect(alerts.publish(alert)).toBe(true); // a re-report after the first was stored: JetStream drops it
    await alerts.settled();
    const after = await stored();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.body).toEqual(alert);
  });
});

describe('budget alerts are not lost between the settlement and the publish (ADR 0018)', () => {
  it('a publish that fails is published by the next settlement on the budget, once, with the figures of the crossing', async () => {
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const [r1, r2, r3] = await admitted(teamId, 3);
    // billing A settles across 50 %, but its NATS is gone: every publish attempt fails
    const deadNc = await connectNats(NATS_URL, 'alert-loss-dead');
    await deadNc.close();
    const a = billing(deadNc);
    await a.service.settle([usage(r1!, 600n, teamId)]);
    await a.alerts.settled();
    expect(await a.count('failed')).toBe(1);
    expect(await storedFor(teamId)).toEqual([]);

    // billing B (or A restarted) settles the next request on the same budget: the 50 % alert goes out now
    const b = billing();
    await b.service.settle([usage(r2!, 100n, teamId)]);
    await b.alerts.settled();
    const stored = await storedFor(teamId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toMatchObject({ thresholdPct: 50, spentUsd: '0.000000600', budgetUsd: '0.000001000' });
    expect(stored[0]!.msgId).toBe(budgetAlertId(stored[0]!.body));
    // marked published: later settlements report it no more
    await b.service.settle([usage(r3!, 50n, teamId)]);
    await b.alerts.settled();
    expect(await storedFor(teamId)).toHaveLength(1);
    expect(await b.count('ok')).toBe(1);
  });

  it('billing dies after SETTLE and nothing settles on the budget again: the resend sweep publishes the alert once', async () => {
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const [r1] = await admitted(teamId, 1);
    // what a billing killed right after SETTLE leaves behind: the threshold crossed, the alert reported, not published
    const reported = await new Budgets(redis, { prefix }).settle([{ requestId: r1!, costNanoUsd: 1_000n, tokens: 2 }]);
    expect(reported.map((x) => x.thresholdPct).sort((x, y) => x - y)).toEqual([50, 80, 100]);
    // the budget is full: the ingress refuses every request on it, no settlement will report the alerts again

    const b = billing();
    b.service.onApplicationBootstrap(); // the sweep: at boot, then every BUDGET_ALERT_RESEND_MS (300 ms here)
    await waitFor('the three alerts', async () => (await storedFor(teamId)).length >= 3);
    await b.alerts.settled();
    await new Promise((r) => setTimeout(r, 700)); // two more sweeps: nothing is published again
    await b.alerts.settled();
    const stored = await storedFor(teamId);
    expect(stored.map((m) => m.body.thresholdPct).sort((x, y) => x - y)).toEqual([50, 80, 100]);
    expect(stored.every((m) => m.body.spentUsd === '0.000001000')).toBe(true);
    expect(await b.count('ok')).toBe(3);
    expect(await b.service.resendPending()).toBe(0);
  });

  it('an alert stored by JetStream whose mark was lost is published again with the same id and stored once (duplicate window)', async () => {
    const teamId = `team_${randomBytes(4).toString('hex')}`;
    const [r1, r2] = await admitted(teamId, 2);
    const b = billing();
    await b.service.settle([usage(r1!, 500n, teamId)]);
    await b.alerts.settled();
    // billing died after JetStream's ack and before the mark: undo the mark as if it never happened
    const key = `${prefix}:bud:team:${teamId}:t`;
    await redis.hdel(key, 'a50');
    await redis.hset(key, 'p50', '500 1000');
    await b.service.settle([usage(r2!, 1n, teamId)]);
    await b.alerts.settled();
    expect(await b.count('ok')).toBe(2); // published twice ...
    expect(await storedFor(teamId)).toHaveLength(1); // ... stored once
    expect(await redis.hget(key, 'a50')).toBe('1');
  });
});
