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
// publishes each alert durably; the worker's delivery to the webhook is tested in apps/worker.
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const prefix = `gwsettle${randomBytes(4).toString('hex')}`;
const target = { stream: `TEST_ALERTS_${prefix}`, subject: `test.${prefix}.evt.budget-alert.v1` };
let redis: Redis;
let nc: NatsConnection;
let alerts: AlertPublisher;
let metrics: MetricsService;
let service: SettlementService;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  nc = await connectNats(NATS_URL, 'settlement-int-spec');
  const env = loadEnv({ GATEWAY_MASTER_KEY: 'x'.repeat(16), REDIS_URL, REDIS_PREFIX: prefix });
  metrics = new MetricsService();
  alerts = new AlertPublisher(new DurablePublisher(nc), metrics, target);
  service = new SettlementService(env, alerts);
});
afterAll(async () => {
  await service.onApplicationShutdown();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(target.stream).catch(() => undefined);
  await nc.drain();
});

/** Every message stored in the test's alert stream: its message id and its body. */
async function stored(): Promise<Array<{ msgId: string | undefined; body: unknown }>> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(target.stream);
  const out: Array<{ msgId: string | undefined; body: unknown }> = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(target.stream, { seq });
    if (m) out.push({ msgId: m.header.get('Nats-Msg-Id') || undefined, body: decodeJson(m.data) });
  }
  return out;
}

function usage(requestId: string, costNanoUsd: bigint): UsageEvent {
  return {
    requestId,
    occurredAt: Date.now(),
    orgId: null,
    teamId: 'team_1',
    keyId: 'key_1',
    endUser: null,
    requestedModel: 'm',
    providerId: 'sim',
    model: 'm',
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
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

  it('an alert published twice (a re-settle that fires it again) is stored once', async () => {
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
    alerts.publish(alert);
    alerts.publish(alert);
    await alerts.settled();
    alerts.publish(alert);
    await alerts.settled();
    const after = await stored();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.body).toEqual(alert);
  });
});
