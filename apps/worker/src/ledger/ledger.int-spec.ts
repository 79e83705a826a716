import { randomBytes } from 'node:crypto';
import 'reflect-metadata';
import { Controller, Module, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { contracts, type ReconcileResult, type RollupDaysResult } from '@gw/contracts';
import { bootstrapMicroservice } from '@gw/transport';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../app.module.js';
import { loadEnv } from '../config/env.js';
import { LEDGER_SCHEDULERS, QUEUES } from '../queues/queues.js';
import { LedgerQueue } from './ledger.queue.js';

/**
 * Real Redis (a unique BullMQ prefix) and real NATS; billing is played by a Nest microservice answering the daily
 * rollup and reconciliation subjects (no queue group, so it hears every call) with answers only it gives.
 */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest-ledger-${randomBytes(4).toString('hex')}`;
const marker = `run-${prefix}`;
const rollupCalls: Array<{ days?: string[] }> = [];
let reconcileCalls = 0;
let failNextReconcile = true;

@Controller()
class FakeBilling {
  @MessagePattern(contracts.billingRollupDays.subject)
  rollup(@Payload() body: { days?: string[] }): RollupDaysResult {
    rollupCalls.push(body);
    return { days: (body.days ?? ['2025-03-01']).map((day) => ({ day, rows: 7 })) };
  }

  @MessagePattern(contracts.billingReconcile.subject)
  reconcile(): ReconcileResult {
    reconcileCalls++;
    if (failNextReconcile) {
      failNextReconcile = false;
      throw new Error('database away');
    }
    return { runId: marker, ok: false, checks: [{ check: 'entries_sum_to_zero', breaks: 2, sample: ['transaction 1'] }] };
  }
}
@Module({ controllers: [FakeBilling] })
class FakeBillingModule {}

let fake: INestMicroservice;
let app: INestApplicationContext;
let queue: Queue;

beforeAll(async () => {
  fake = await NestFactory.createMicroservice(FakeBillingModule, { transport: Transport.NATS, options: { servers: [NATS_URL] }, logger: false });
  await fake.listen();
  const env = loadEnv({ NATS_URL, REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'error', ROLLUP_BACKOFF_MS: '200', ROLLUP_RPC_TIMEOUT_MS: '5000', RECONCILE_RPC_TIMEOUT_MS: '5000' });
  app = await bootstrapMicroservice(AppModule.forRoot(env), { service: 'worker', natsUrl: NATS_URL, logLevel: 'error' });
  queue = new Queue(QUEUES.ledger, { connection: { url: REDIS_URL }, prefix });
});

afterAll(async () => {
  await app?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await fake?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

async function finished(id: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.getJob(id);
    if (job?.finishedOn !== undefined) return job;
    if (Date.now() > until) throw new Error(`job ${id} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ledger queue', () => {
  it('registers the daily-rollup and reconciliation schedulers once', async () => {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual([LEDGER_SCHEDULERS.reconcile, LEDGER_SCHEDULERS.rollupDays].sort());
    expect(schedulers.find((s) => s.key === LEDGER_SCHEDULERS.rollupDays)?.pattern).toBe('20 * * * *');
  });

  it('a daily-rollup job asks billing for the stale days (or the given ones) and keeps its answer', async () => {
    const lq = app.get(LedgerQueue);
    const all = await lq.enqueueRollupDays(undefined, `all-${prefix}`);
    const some = await lq.enqueueRollupDays(['2025-03-02', '2025-03-03'], `some-${prefix}`);
    expect((await finished(all.id!)).returnvalue).toEqual({ kind: 'rollup-days', days: [{ day: '2025-03-01', rows: 7 }] });
    expect((await finished(some.id!)).returnvalue).toEqual({ kind: 'rollup-days', days: [{ day: '2025-03-02', rows: 7 }, { day: '2025-03-03', rows: 7 }] });
    expect(rollupCalls).toContainEqual({});
    expect(rollupCalls).toContainEqual({ days: ['2025-03-02', '2025-03-03'] });
  });

  it('a reconciliation job that fails is retried, and reports the breaks billing found', async () => {
    const job = await app.get(LedgerQueue).enqueueReconcile(`rec-${prefix}`);
    const done = await finished(job.id!);
    expect(done.attemptsMade).toBe(2);
    expect(reconcileCalls).toBe(2);
    expect(done.returnvalue).toEqual({ kind: 'reconcile', runId: marker, ok: false, breaks: 2 });
  });

  it('bad job data fails at once, without retries', async () => {
    const job = await queue.add('rollup-days', { days: ['not a day'] }, { jobId: `bad-${prefix}`, attempts: 5 });
    const done = await finished(job.id!);
    expect(done.failedReason).toMatch(/bad ledger job data/);
    expect(done.attemptsMade).toBe(1);
  });
});
