import { randomBytes } from 'node:crypto';
import 'reflect-metadata';
import { Controller, Module, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy } from '@nestjs/microservices';
import { contracts, type RollupResult } from '@gw/contracts';
import { bootstrapMicroservice } from '@gw/transport';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../app.module.js';
import { loadEnv } from '../config/env.js';
import { QUEUES, ROLLUP_JOBS, ROLLUP_SCHEDULER_ID } from '../queues/queues.js';
import { RollupQueue } from './rollup.queue.js';

/**
 * Real Redis (a unique BullMQ prefix for this file) and real NATS. Billing is played by a Nest microservice that
 * answers billing.rpc.rollup-hour.v1 the way billing does; it subscribes without a queue group, so it hears every
 * call even if a real billing replica is also on this NATS, and counts the calls per hour.
 */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest-worker-${randomBytes(4).toString('hex')}`;

const calls = new Map<string, number>();
/** hours whose first call is answered only after this many ms (a job "in the middle" of its work) */
const slowFirst = new Map<string, number>();

@Controller()
class FakeBilling {
  @MessagePattern(contracts.billingRollupHour.subject)
  async rollup(@Payload() body: { hourStart: string }): Promise<RollupResult> {
    const n = (calls.get(body.hourStart) ?? 0) + 1;
    calls.set(body.hourStart, n);
    const delay = n === 1 ? slowFirst.get(body.hourStart) : undefined;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    return { rows: 3, hourStart: body.hourStart };
  }
}
@Module({ controllers: [FakeBilling] })
class FakeBillingModule {}

const env = (over: Record<string, string> = {}) =>
  loadEnv({
    NATS_URL,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'error',
    WORKER_LOCK_DURATION_MS: '1500',
    WORKER_STALLED_INTERVAL_MS: '500',
    ROLLUP_BACKOFF_MS: '200',
    ROLLUP_RPC_TIMEOUT_MS: '10000',
    ...over,
  });

let fake: INestMicroservice;
let queue: Queue;
let events: QueueEvents;
const apps: INestApplicationContext[] = [];

async function stopWorkers(): Promise<void> {
  for (const app of apps.splice(0)) await app.close();
}

async function startWorker(over: Record<string, string> = {}): Promise<INestApplicationContext> {
  const app = await bootstrapMicroservice(AppModule.forRoot(env(over)), { service: 'worker', natsUrl: NATS_URL, logLevel: 'error' });
  apps.push(app);
  return app;
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const completions = new Map<string, number>();

beforeAll(async () => {
  fake = await NestFactory.createMicroservice(FakeBillingModule, { transport: Transport.NATS, options: { servers: [NATS_URL] }, logger: false });
  await fake.listen();
  queue = new Queue(QUEUES.rollup, { connection: { url: REDIS_URL }, prefix });
  events = new QueueEvents(QUEUES.rollup, { connection: { url: REDIS_URL }, prefix });
  events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
  await events.waitUntilReady();
});

afterAll(async () => {
  for (const app of apps) await app.close().catch(() => undefined);
  await events?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await fake?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('rollup queue', () => {
  it('a job enqueued while no worker runs is done by the next worker, exactly once', async () => {
    const hour = '2025-03-01T10:00:00.000Z';
    const job = await queue.add(ROLLUP_JOBS.hours, { hourStarts: [hour] }, { jobId: `offline-${prefix}`, attempts: 3 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await job.getState()).toBe('waiting');
    expect(calls.get(hour)).toBeUndefined();

    await startWorker();
    await waitFor('completion', async () => (await queue.getJob(job.id!))?.finishedOn !== undefined);
    const done = (await queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ hours: [{ hourStart: hour, rows: 3 }] });
    expect(calls.get(hour)).toBe(1);
    await waitFor('the completed event', () => completions.get(job.id!) === 1);
  });

  it('a job whose worker is killed mid-run is taken over by another worker and completes once', async () => {
    const hour = '2025-03-02T11:00:00.000Z';
    slowFirst.set(hour, 4_000);
    await stopWorkers();
    const a = await startWorker();
    const job = await a.get(RollupQueue).enqueueHours([hour], `killed-${prefix}`);
    await waitFor('the first worker to be in the middle of the job', () => calls.get(hour) === 1);
    expect(await job.getState()).toBe('active');

    // the worker process "dies": it stops renewing the lock and walks away from the running job
    await a.get(RollupQueue).close(true);
    await startWorker();

    await waitFor('completion by the second worker', async () => (await queue.getJob(job.id!))?.finishedOn !== undefined);
    const done = (await queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ hours: [{ hourStart: hour, rows: 3 }] });
    expect(calls.get(hour)).toBe(2); // the abandoned call and the retry: billing's rollup is idempotent

    // the first worker's late answer (after 4 s) must not complete the job a second time
    await new Promise((r) => setTimeout(r, 4_500));
    expect(await (await queue.getJob(job.id!))!.getState()).toBe('completed');
    expect(completions.get(job.id!)).toBe(1);
  });

  it('a failing rollup is retried with backoff until billing answers', async () => {
    const hour = '2025-03-03T12:00:00.000Z';
    slowFirst.set(hour, 2_500); // the first call outlives the worker's 1 s deadline: that attempt fails
    await stopWorkers();
    const app = await startWorker({ ROLLUP_RPC_TIMEOUT_MS: '1000' });
    const job = await app.get(RollupQueue).enqueueHours([hour], `retry-${prefix}`);
    await waitFor('completion after a retry', async () => (await queue.getJob(job.id!))?.finishedOn !== undefined, 30_000);
    const done = (await queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect(done.attemptsMade).toBe(2);
    expect(calls.get(hour)).toBe(2);
    await waitFor('the completed event', () => completions.get(job.id!) === 1);
  });

  it('a job with bad data fails at once, without retries', async () => {
    const job = await queue.add(ROLLUP_JOBS.hours, { hourStarts: ['not-a-time'] }, { jobId: `bad-${prefix}`, attempts: 5, backoff: { type: 'fixed', delay: 100 } });
    await waitFor('the failure', async () => (await queue.getJob(job.id!))?.finishedOn !== undefined);
    const failed = (await queue.getJob(job.id!))!;
    expect(await failed.getState()).toBe('failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/bad rollup job data/);
    expect(calls.get('not-a-time')).toBeUndefined();
  });

  it('the hourly scheduler is registered once per prefix, and a fire rolls up the previous and the current hour', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.filter((s) => s.key === ROLLUP_SCHEDULER_ID)).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ pattern: '5 * * * *', tz: 'UTC' });

    // a worker with a per-second cron: the real scheduler path fires within a second
    await stopWorkers();
    const now = Date.now();
    await startWorker({ ROLLUP_CRON: '* * * * * *' });
    const hourMs = 3_600_000;
    const current = new Date(Math.floor(now / hourMs) * hourMs).toISOString();
    const previous = new Date(Math.floor(now / hourMs) * hourMs - hourMs).toISOString();
    await waitFor('a scheduled rollup', () => (calls.get(previous) ?? 0) >= 1 && (calls.get(current) ?? 0) >= 1, 10_000);
    expect((await queue.getJobSchedulers()).filter((s) => s.key === ROLLUP_SCHEDULER_ID)).toHaveLength(1);
  });

  it('answers workerPing over NATS', async () => {
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [NATS_URL] } });
    try {
      const pong = await firstValueFrom(client.send<{ service: string }>(contracts.workerPing.subject, {}).pipe(timeout(5_000)));
      expect(pong.service).toBe('worker');
    } finally {
      await client.close();
    }
  });
});
