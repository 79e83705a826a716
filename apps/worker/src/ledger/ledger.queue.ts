import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { contracts } from '@gw/contracts';
import { ControlClient } from '@gw/transport';
import { Queue, UnrecoverableError, type Job, type JobsOptions, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobOptions, redisConnection, startWorker } from '../queues/bullmq.js';
import type { WorkerEnv } from '../config/env.js';
import { WORKER_ENV } from '../config/tokens.js';
import { LEDGER_JOBS, LEDGER_SCHEDULERS, LedgerJobData, QUEUES, type LedgerJobResult } from '../queues/queues.js';

/**
 * The `ledger` queue (BullMQ, prefix REDIS_PREFIX): two job schedulers, the daily spend rollup (DAILY_ROLLUP_CRON)
 * and the reconciliation (RECONCILE_CRON). Both jobs ask billing over NATS; both are idempotent on billing's side
 * (a day is recomputed from the raw records; a reconciliation only reads and appends its run), so a retry, a
 * duplicate or a job taken over from a dead worker is harmless.
 */
@Injectable()
export class LedgerQueue implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LedgerQueue');
  private readonly connection: Redis;
  readonly queue: Queue<LedgerJobData, LedgerJobResult, string>;
  private worker: Worker<LedgerJobData, LedgerJobResult, string> | null = null;

  constructor(
    @Inject(WORKER_ENV) private readonly env: WorkerEnv,
    private readonly control: ControlClient,
  ) {
    this.connection = redisConnection(env, this.logger);
    this.queue = new Queue(QUEUES.ledger, { connection: this.connection, prefix: env.REDIS_PREFIX });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  get jobOptions(): JobsOptions {
    return jobOptions(this.env);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      LEDGER_SCHEDULERS.rollupDays,
      { pattern: this.env.DAILY_ROLLUP_CRON, tz: 'UTC' },
      { name: LEDGER_JOBS.rollupDays, data: {}, opts: this.jobOptions },
    );
    await this.queue.upsertJobScheduler(
      LEDGER_SCHEDULERS.reconcile,
      { pattern: this.env.RECONCILE_CRON, tz: 'UTC' },
      { name: LEDGER_JOBS.reconcile, data: {}, opts: this.jobOptions },
    );
    this.worker = startWorker(QUEUES.ledger, this.env, this.connection, this.logger, (job) => this.process(job));
    this.logger.log(`daily rollup ${this.env.DAILY_ROLLUP_CRON}, reconciliation ${this.env.RECONCILE_CRON} (UTC), prefix ${this.env.REDIS_PREFIX}`);
  }

  /** Enqueues a daily rollup of explicit days (backfill) or, without days, of every stale one. */
  async enqueueRollupDays(days?: string[], jobId?: string): Promise<Job<LedgerJobData, LedgerJobResult, string>> {
    const data = LedgerJobData.parse(days ? { days } : {});
    return this.queue.add(LEDGER_JOBS.rollupDays, data, { ...this.jobOptions, ...(jobId ? { jobId } : {}) });
  }

  async enqueueReconcile(jobId?: string): Promise<Job<LedgerJobData, LedgerJobResult, string>> {
    return this.queue.add(LEDGER_JOBS.reconcile, {}, { ...this.jobOptions, ...(jobId ? { jobId } : {}) });
  }

  async process(job: Job<LedgerJobData, LedgerJobResult, string>): Promise<LedgerJobResult> {
    const parsed = LedgerJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad ledger job data: ${parsed.error.message}`);
    switch (job.name) {
      case LEDGER_JOBS.rollupDays: {
        const r = await this.control.send(contracts.billingRollupDays, parsed.data.days ? { days: parsed.data.days } : {}, this.env.ROLLUP_RPC_TIMEOUT_MS);
        this.logger.log(`daily rollup job ${job.id ?? '?'}: ${r.days.length ? r.days.map((d) => `${d.day}=${d.rows}`).join(', ') : 'nothing stale'}`);
        return { kind: 'rollup-days', days: r.days };
      }
      case LEDGER_JOBS.reconcile: {
        const r = await this.control.send(contracts.billingReconcile, {}, this.env.RECONCILE_RPC_TIMEOUT_MS);
        const breaks = r.checks.reduce((n, c) => n + c.breaks, 0);
        if (r.ok) this.logger.log(`reconciliation run ${r.runId}: every invariant holds`);
        else this.logger.error(`reconciliation run ${r.runId}: ${breaks} break(s): ${r.checks.filter((c) => c.breaks > 0).map((c) => `${c.check}=${c.breaks}`).join(', ')}`);
        return { kind: 'reconcile', runId: r.runId, ok: r.ok, breaks };
      }
      default:
        throw new UnrecoverableError(`unknown ledger job ${job.name}`);
    }
  }

  async close(force = false): Promise<void> {
    await this.worker?.close(force);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
  }
}
