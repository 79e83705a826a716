import { z } from 'zod';

/** The only file of the router that reads process.env; every bad variable is listed at boot. */
const Env = z.object({
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  GATEWAY_CONFIG: z.string().optional(),
  SIMULATOR_URL: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'log', 'warn', 'error']).default('log'),
  /** watch GATEWAY_CONFIG and reload it on change (validated first; a bad file is refused, the old config stays) */
  CONFIG_WATCH: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
});
export type RouterEnv = z.infer<typeof Env>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): RouterEnv {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    throw new Error(`router: bad environment:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

/** The raw environment, for ${VAR} interpolation in the YAML config. */
export function rawEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
