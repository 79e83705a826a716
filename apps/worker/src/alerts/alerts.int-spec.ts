import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { budgetAlertId, contracts, type BudgetAlertEvent } from '@gw/contracts';
import { bootstrapMicroservice, connectNats, DurablePublisher, encodeJson } from '@gw/transport';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../app.module.js';
import { loadEnv } from '../config/env.js';
import { AlertDelivery } from './alert.delivery.js';

/**
 * Real NATS JetStream (a stream, subject and durable of this file's own per test) and a real local HTTP webhook;
 * the worker is the whole Nest app (bootstrapMicroservice), stopped and started again like a restart.
 */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest-alerts-${randomBytes(4).toString('hex')}`;

type Hit = { body: string; headers: IncomingHttpHeaders };
/** what the webhook answers, per alert id (default: 204) */
const answers = new Map<string, number>();
/** every request the webhook got (answered or not), and the 2xx ones */
const attempts: Hit[] = [];
const received: Hit[] = [];
let server: Server | null = null;
let hookPort = 0;

async function openWebhook(port = 0): Promise<void> {
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const hit = { body, headers: req.headers };
      attempts.push(hit);
      const status = answers.get(String(req.headers['x-gateway-alert-id'])) ?? 204;
      if (status < 300) received.push(hit);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  const addr = s.address();
  hookPort = typeof addr === 'object' && addr ? addr.port : 0;
  server = s;
}
async function closeWebhook(): Promise<void> {
  const s = server;
  server = null;
  s?.closeAllConnections();
  await new Promise((r) => s?.close(r));
}

let nc: NatsConnection;
let publisher: DurablePublisher;
const apps: INestApplicationContext[] = [];
const streams: string[] = [];

/** A unique stream/subject/durable for one test. */
function newTarget() {
  const id = randomBytes(4).toString('hex');
  const target = { stream: `TEST_ALERTS_${id}`, subject: `test.${id}.evt.budget-alert.v1`, durableName: `test-alerts-${id}` };
  streams.push(target.stream);
  return target;
}
type Target = ReturnType<typeof newTarget>;

async function startWorker(target: Target, over: Record<string, string> = {}): Promise<INestApplicationContext> {
  const env = loadEnv({
    NATS_URL,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'error',
    // the BullMQ schedulers must not fire during the test
    ROLLUP_CRON: '0 0 1 1 *',
    DAILY_ROLLUP_CRON: '0 0 1 1 *',
    RECONCILE_CRON: '0 0 1 1 *',
    BUDGET_ALERT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
    BUDGET_ALERT_BACKOFF_MS: '100',
    BUDGET_ALERT_MAX_BACKOFF_MS: '400',
    BUDGET_ALERT_TIMEOUT_MS: '2000',
    ...over,
  });
  const app = await bootstrapMicroservice(AppModule.forRoot(env, { alertTarget: target }), {
    service: 'worker',
    natsUrl: NATS_URL,
    logLevel: 'error',
  });
  apps.push(app);
  return app;
}
async function stopWorker(app: INestApplicationContext): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

function alert(over: Partial<BudgetAlertEvent> = {}): BudgetAlertEvent {
  return {
    type: 'budget.threshold',
    scope: 'team',
    id: `team_${randomBytes(4).toString('hex')}`,
    period: 'm2026-11',
    thresholdPct: 80,
    spentUsd: '8.000000000',
    budgetUsd: '10.000000000',
    ...over,
  };
}

/** What billing does: a durable publish with the alert id as message id. */
async function publish(target: Target, a: BudgetAlertEvent): Promise<void> {
  await publisher.publish({ ...contracts.budgetAlerts, ...target } as typeof contracts.budgetAlerts, a, budgetAlertId(a));
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Nothing left for the consumer: every message acked. */
async function drained(target: Target): Promise<boolean> {
  const info = await (await jetstreamManager(nc)).consumers.info(target.stream, target.durableName);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

const hitsFor = (list: Hit[], a: BudgetAlertEvent) => list.filter((h) => h.headers['x-gateway-alert-id'] === budgetAlertId(a));

beforeAll(async () => {
  nc = await connectNats(NATS_URL, 'alerts-int-spec');
  publisher = new DurablePublisher(nc);
  await openWebhook();
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close().catch(() => undefined);
  answers.clear();
  if (!server) await openWebhook(hookPort);
});
afterAll(async () => {
  await closeWebhook();
  const jsm = await jetstreamManager(nc);
  for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
  await nc.drain();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('budget alert delivery', () => {
  it('survives a webhook outage (5xx, then connection refused) and a worker restart: delivered exactly once, body unchanged', async () => {
    const target = newTarget();
    const a = alert({ thresholdPct: 100, spentUsd: '10.000000000' });
    answers.set(budgetAlertId(a), 503);
    await publish(target, a); // before any worker runs: JetStream keeps it

    const first = await startWorker(target);
    await waitFor('three refused deliveries', () => hitsFor(attempts, a).length >= 3);
    expect(first.get(AlertDelivery).stats.retried).toBeGreaterThanOrEqual(3);
    await stopWorker(first);

    // the webhook goes away altogether (connection refused) while the next worker runs
    await closeWebhook();
    const second = await startWorker(target);
    await waitFor('two connection errors', () => second.get(AlertDelivery).stats.retried >= 2);
    expect(received).toEqual([]);
    await stopWorker(second);

    // the webhook is back and healthy; a third worker delivers it
    answers.clear();
    await openWebhook(hookPort);
    const third = await startWorker(target);
    await waitFor('the delivery', () => hitsFor(received, a).length === 1);
    await waitFor('the ack', () => drained(target));
    await new Promise((r) => setTimeout(r, 1_000)); // > the longest retry delay: nothing else comes
    expect(hitsFor(received, a)).toHaveLength(1);
    const hit = hitsFor(received, a)[0]!;
    expect(hit.body).toBe(JSON.stringify(a)); // the external format, key for key and in order
    expect(hit.headers['content-type']).toBe('application/json');
    expect(third.get(AlertDelivery).stats).toMatchObject({ delivered: 1, poison: 0, dropped: 0 });
  });

  it('one alert per delivery: an alert the webhook refuses does not resend the others', async () => {
    const target = newTarget();
    const bad = alert({ thresholdPct: 50 });
    const good = [alert(), alert(), alert()];
    answers.set(budgetAlertId(bad), 500);
    await publish(target, bad);
    for (const g of good) await publish(target, g);
    const app = await startWorker(target);
    await waitFor('the good ones', () => good.every((g) => hitsFor(received, g).length === 1));
    await waitFor('four refusals of the bad one', () => hitsFor(attempts, bad).length >= 4);
    for (const g of good) expect(hitsFor(attempts, g)).toHaveLength(1);
    answers.delete(budgetAlertId(bad));
    await waitFor('the bad one, once accepted', () => hitsFor(received, bad).length === 1);
    await waitFor('the ack', () => drained(target));
    expect(app.get(AlertDelivery).stats.delivered).toBe(4);
  });

  it('a message that is not a budget alert is acked and logged (poison), not retried', async () => {
    const target = newTarget();
    const app = await startWorker(target);
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish(target.subject, encodeJson({ type: 'budget.threshold', scope: 'org', id: 'x' }));
    await js.publish(target.subject, new TextEncoder().encode('{not json'));
    const good = alert();
    await publish(target, good);
    await waitFor('the good one', () => hitsFor(received, good).length === 1);
    await waitFor('all acked', () => drained(target));
    await new Promise((r) => setTimeout(r, 600));
    const stats = app.get(AlertDelivery).stats;
    expect(stats).toMatchObject({ poison: 2, retried: 0, delivered: 1 });
    const info = await (await jetstreamManager(nc)).consumers.info(target.stream, target.durableName);
    expect(info.num_redelivered).toBe(0);
  });

  it('bounds the ALERTS stream at boot, also when it already exists without limits (billing created it)', async () => {
    const target = newTarget();
    const a = alert();
    await publish(target, a); // billing's publisher creates the stream, unbounded
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(target.stream)).config).toMatchObject({ max_age: 0, max_msgs: -1 });
    await startWorker(target, { ALERTS_MAX_AGE_MS: '86400000', ALERTS_MAX_MSGS: '500' });
    expect((await jsm.streams.info(target.stream)).config).toMatchObject({
      subjects: [target.subject],
      max_age: 86_400_000 * 1_000_000,
      max_msgs: 500,
    });
    await waitFor('the delivery', () => hitsFor(received, a).length === 1); // the stored alert is still delivered
  });

  it('with no webhook URL configured, alerts are acked and dropped (no retries, no calls)', async () => {
    const target = newTarget();
    const app = await startWorker(target, { BUDGET_ALERT_WEBHOOK_URL: '' });
    const a = alert();
    const b = alert();
    await publish(target, a);
    await publish(target, b);
    await waitFor('both acked', async () => app.get(AlertDelivery).stats.dropped === 2 && (await drained(target)));
    expect(hitsFor(attempts, a)).toEqual([]);
    expect(app.get(AlertDelivery).stats.retried).toBe(0);
  });
});
