import { z } from 'zod';

/** The only file of the executor that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** the YAML gateway config; providers' credentials, base URLs, timeouts and headers come from it */
  GATEWAY_CONFIG: z.string().optional(),
  /** base URL of the provider simulator used by the built-in config (no GATEWAY_CONFIG) */
  SIMULATOR_URL: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** keep-alive connections per upstream origin */
  UPSTREAM_CONNECTIONS_PER_ORIGIN: z.coerce.number().int().positive().default(256),
  /** 64 hex characters: opens the provider credentials stored through the admin API (unset: config keys only) */
  GATEWAY_ENCRYPTION_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)').optional(),
  /** watch GATEWAY_CONFIG and reload the providers on change (validated first; a bad file is refused) */
  CONFIG_WATCH: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
});
export type ExecutorEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): ExecutorEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`executor: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The raw environment, for ${VAR} interpolation of the YAML config (provider API keys). */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
