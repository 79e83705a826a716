import { z } from 'zod';

const int = (dflt: number) => z.coerce.number().int().positive().default(dflt);

/** The only file of the ingress that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  DATABASE_URL: z.string().min(1).default('postgresql://postgres@127.0.0.1:5432/gateway'),
  GATEWAY_MASTER_KEY: z.string({ error: 'is required' }).min(16, 'must be at least 16 characters'),
  GATEWAY_CONFIG: z.string().optional(),
  REQUEST_TIMEOUT_MS: int(30_000),
  STREAM_IDLE_TIMEOUT_MS: int(30_000),
  MAX_BODY_BYTES: int(4 * 1024 * 1024),
  /** the exact cache is read and written straight in Redis (the cache service uses the same prefix); rate limits
   * and budget holds live there too: every key the ingress touches starts with `${REDIS_PREFIX}:` */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('gw'),
  /** bound on one exact-cache GET; a slower (or absent) Redis is a miss (fail open) */
  CACHE_TIMEOUT_MS: int(50),
  /** a response larger than this (UTF-8 bytes) is not stored in the exact cache (the cache service's limit too) */
  CACHE_MAX_VALUE_BYTES: int(1024 * 1024),
  /** how long a resolved key stays in the in-process cache; ≤ 1000 so that a revocation is effective within 1 s */
  KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(1000).default(1000),
  /** longest wait for Redis on the request path (limits, reservation); past it a budgeted request gets 503 */
  REDIS_COMMAND_TIMEOUT_MS: int(1000),
  /** how long a budget hold or concurrency slot lives when its request is never settled (crash, lost event) */
  BUDGET_HOLD_TTL_MS: int(300_000),
  /** admissions taken ahead per key × model while its limits are far (ADR 0019); 0 = every request admits itself */
  ADMISSION_PREFETCH: z.coerce.number().int().min(0).max(64).default(4),
  /** how long a prefetched admission waits for a request before it is given back */
  ADMISSION_PREFETCH_TTL_MS: z.coerce.number().int().min(100).max(10_000).default(1000),
  /** admissions are taken ahead only while every limit has this many prefetched admissions' worth left */
  ADMISSION_PREFETCH_MIN_HEADROOM: z.coerce.number().int().min(1).default(100),
  /** output tokens priced for a request without max_tokens when the model's config gives no maxOutputTokens */
  BUDGET_DEFAULT_MAX_OUTPUT_TOKENS: int(4096),
  /** 64 hex characters (32 bytes): AES-256-GCM key of stored provider credentials; unset → /admin/v1/credentials answers 503 */
  GATEWAY_ENCRYPTION_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)').optional(),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});
export type IngressEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): IngressEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`ingress: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The raw environment, for ${VAR} interpolation in the YAML config. */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
