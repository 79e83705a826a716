import { z } from 'zod';

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/** The only file of billing that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  DATABASE_URL: z.string().startsWith('postgres').default('postgresql://postgres@127.0.0.1:5432/gateway'),
  BILLING_PORT: z.coerce.number().int().min(0).max(65_535).default(8090),
  HOST: z.string().default('0.0.0.0'),
  GATEWAY_MASTER_KEY: z.string().min(16, 'must be at least 16 characters'),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  USAGE_BATCH_SIZE: positiveInt(500),
  /** how long a batch waits for company after its first event: at low rates a batch per 100 ms costs Postgres a third of one per 20 ms (ADR 0014) */
  USAGE_LINGER_MS: positiveInt(100),
  /** usage batches in the database at once: the next is parsed and written while the previous commits (ADR 0009) */
  USAGE_CONCURRENCY: positiveInt(2),
  DATABASE_POOL_SIZE: positiveInt(10),
  /** budgets: billing settles the ingress's reservations in this Redis, under `${REDIS_PREFIX}:` */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('gw'),
  /** budget alerts crossed this long ago and still not published (a failed publish, a billing that died) are published again, checked this often (ADR 0018) */
  BUDGET_ALERT_RESEND_MS: positiveInt(30_000),
  /** the YAML gateway config: the targets' prices are seeded into billing.prices on boot */
  GATEWAY_CONFIG: z.string().optional(),
});
export type BillingEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): BillingEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`billing: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The raw environment, for ${VAR} interpolation of the YAML config. */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
