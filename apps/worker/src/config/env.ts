import { DUPLICATE_WINDOW_MS } from '@gw/transport';
import { z } from 'zod';

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/** The only file of the worker that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('gw'),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** cron (UTC) of the hourly spend rollup: minute 5 of every hour */
  ROLLUP_CRON: z
    .string()
    .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron pattern of 5 or 6 fields')
    .default('5 * * * *'),
  /** cron (UTC) of the daily rollup: every finished day whose rollup is missing or stale (cheap when none is) */
  DAILY_ROLLUP_CRON: z
    .string()
    .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron pattern of 5 or 6 fields')
    .default('20 * * * *'),
  /** cron (UTC) of the ledger reconciliation */
  RECONCILE_CRON: z
    .string()
    .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron pattern of 5 or 6 fields')
    .default('40 3 * * *'),
  /** deadline of a reconciliation call (it reads the whole ledger) */
  RECONCILE_RPC_TIMEOUT_MS: positiveInt(600_000),
  ROLLUP_ATTEMPTS: positiveInt(8),
  ROLLUP_BACKOFF_MS: positiveInt(10_000),
  ROLLUP_RPC_TIMEOUT_MS: positiveInt(60_000),
  /** a job whose worker died is taken over by another worker once its lock expires */
  WORKER_LOCK_DURATION_MS: positiveInt(30_000),
  WORKER_STALLED_INTERVAL_MS: positiveInt(30_000),
  /** budget alerts (50/80/100 %) are POSTed here as JSON; unset or empty = alerts are acknowledged and dropped */
  BUDGET_ALERT_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  /** deadline of one webhook call */
  BUDGET_ALERT_TIMEOUT_MS: positiveInt(5_000),
  /** delay before the first retry of an undelivered alert; doubles with each retry up to BUDGET_ALERT_MAX_BACKOFF_MS */
  BUDGET_ALERT_BACKOFF_MS: positiveInt(1_000),
  BUDGET_ALERT_MAX_BACKOFF_MS: positiveInt(300_000),
  /**
   * retention of the ALERTS stream, applied at boot (created or updated): an alert older than this is discarded,
   * delivered or not; at least the 10-minute duplicate window (ADR 0018). Default 7 days.
   */
  ALERTS_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .min(DUPLICATE_WINDOW_MS, `must be at least the duplicate window (${DUPLICATE_WINDOW_MS} ms)`)
    .default(7 * 86_400_000),
  /** the ALERTS stream keeps at most this many alerts, the oldest are discarded first */
  ALERTS_MAX_MSGS: positiveInt(1_000_000),
});
export type WorkerEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`worker: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}
