import { z } from 'zod';

/** The only file of the moderation service that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** YAML gateway config; its `moderation` section is the policy. Without it, the built-in config (redact). */
  GATEWAY_CONFIG: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
});
export type ModerationEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): ModerationEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`moderation: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The raw environment, for ${VAR} interpolation in the YAML config. */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
