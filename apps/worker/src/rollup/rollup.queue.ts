import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Queue, UnrecoverableError, type Job, type JobsOptions, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobOptions, redisConnection, startWorker } from '../queues/bullmq.js';
import type { WorkerEnv } from '../config/env.js';
import { WORKER_ENV } from '../config/tokens.js';
import { QUEUES, ROLLUP_JOBS, ROLLUP_SCHEDULER_ID, RollupJobData, type RollupJobResult } from '../queues/queues.js';
import { RollupService } from './rollup.service.js';

/**
 * The `rollup` queue (BullMQ on Redis, prefix REDIS_PREFIX): a job scheduler fires every ROLLUP_CRON; a Worker
 * processes the jobs. Jobs live in Redis, so they survive a restart; a job whose worker died mid-run is detected
 * as stalled once its lock expires and is run again by another worker (billing's rollup is idempotent).
 */
@Injectable()
export class RollupQueue implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RollupQueue');
  private readonly connection: Redis;
  readonly queue: Queue<RollupJobData, RollupJobResult, string>;
  private worker: Worker<RollupJobData, RollupJobResult, string> | null = null;

  constructor(
    @Inject(WORKER_ENV) private readonly env: WorkerEnv,
    private readonly rollup: RollupService,
  ) {
    this.connection = redisConnection(env, this.logger);
    this.queue = new Queue(QUEUES.rollup, { connection: this.connection, prefix: env.REDIS_PREFIX });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  get jobOptions(): JobsOptions {
    return jobOptions(this.env);
  }

  async onApplicationBootstrap(): Promise<void> {
    // idempotent: every replica upserts the same scheduler; Redis holds one
    await this.queue.upsertJobScheduler(
      ROLLUP_SCHEDULER_ID,
      { pattern: this.env.ROLLUP_CRON, tz: 'UTC' },
      { name: ROLLUP_JOBS.scheduled, data: {}, opts: this.jobOptions },
    );
    this.worker = startWorker(QUEUES.rollup, this.env, this.connection, this.logger, (job) => this.process(job));
    this.logger.log(`rollup scheduled: ${this.env.ROLLUP_CRON} (UTC), prefix ${this.env.REDIS_PREFIX}`);
  }

  /** Enqueues a rollup of explicit hours (backfill). The job id makes a repeat of the same request a no-op. */
  async enqueueHours(hourStarts: string[], jobId?: string): Promise<Job<RollupJobData, RollupJobResult, string>> {
    const data = RollupJobData.parse({ hourStarts });
    return this.queue.add(ROLLUP_JOBS.hours, data, { ...this.jobOptions, ...(jobId ? { jobId } : {}) });
  }

  async process(job: Job<RollupJobData, RollupJobResult, string>): Promise<RollupJobResult> {
    const parsed = RollupJobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`bad rollup job data: ${parsed.error.message}`);
    const firedAt = new Date(job.opts.prevMillis ?? job.timestamp);
    const result = await this.rollup.run(parsed.data, firedAt);
    this.logger.log(`rollup job ${job.id ?? '?'}: ${result.hours.map((h) => `${h.hourStart}=${h.rows}`).join(', ')}`);
    return result;
  }

  /**
   * Stops taking jobs. Graceful (default) waits for the running job; `force` walks away from it, and the job is
   * retried by the next worker once its lock expires, exactly as if this process had been killed.
   */
  async close(force = false): Promise<void> {
    await this.worker?.close(force);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
  }
}
