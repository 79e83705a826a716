import type { Logger } from '@nestjs/common';
import { Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { WorkerEnv } from '../config/env.js';

/** The Redis connection of one queue (BullMQ's blocking commands need maxRetriesPerRequest: null). */
export function redisConnection(env: WorkerEnv, logger: Logger): Redis {
  const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
  connection.on('error', (err: Error) => logger.warn(`redis: ${err.message}`));
  return connection;
}

/** Every job: attempts with exponential backoff; the last 1,000 done and failed jobs are kept. */
export function jobOptions(env: WorkerEnv): JobsOptions {
  return {
    attempts: env.ROLLUP_ATTEMPTS,
    backoff: { type: 'exponential', delay: env.ROLLUP_BACKOFF_MS },
    removeOnComplete: { count: 1_000 },
    removeOnFail: { count: 1_000 },
  };
}

/**
 * A worker of one job at a time; a job whose worker died is taken over once its lock expires (stalled), and the dead
 * worker's late result cannot complete it a second time (lock token).
 */
export function startWorker<D, R>(queue: string, env: WorkerEnv, connection: Redis, logger: Logger, process: (job: Job<D, R, string>) => Promise<R>): Worker<D, R, string> {
  const worker = new Worker<D, R, string>(queue, process, {
    connection,
    prefix: env.REDIS_PREFIX,
    concurrency: 1,
    lockDuration: env.WORKER_LOCK_DURATION_MS,
    stalledInterval: env.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: 3,
  });
  worker.on('error', (err) => logger.warn(`worker: ${err.message}`));
  worker.on('failed', (job, err) => logger.warn(`${queue} job ${job?.name ?? '?'} ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`));
  return worker;
}
