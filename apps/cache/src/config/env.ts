import { z } from 'zod';

/** The only file of the cache service that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  /** every key this service writes starts with `${REDIS_PREFIX}:cache:` */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('gw'),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** values larger than this (UTF-8 bytes) are not stored */
  CACHE_MAX_VALUE_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
});
export type CacheEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): CacheEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`cache: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}
