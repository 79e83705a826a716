// Pure parts of the launcher (scripts/start.mjs) and of the test summary (scripts/test.mjs), kept here so
// that they can be unit-tested (launcher.spec.ts). No I/O in this file.
import { randomBytes } from 'node:crypto';

/** Every app, in start order (ingress last: it answers /ready once it can reach the others). */
export const SERVICES = /** @type {const} */ ([
  'router',
  'executor',
  'cache',
  'moderation',
  'billing',
  'worker',
  'ingress',
]);

/** Provider keys that make the gateway talk to a real provider. */
export const PROVIDER_KEY_VARS = /** @type {const} */ ([
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'MISTRAL_API_KEY',
  'GROQ_API_KEY',
  'DEEPSEEK_API_KEY',
  'OPENROUTER_API_KEY',
  'TOGETHER_API_KEY',
  'XAI_API_KEY',
  'COHERE_API_KEY',
]);

export const DEFAULT_SIMULATOR_URL = 'http://127.0.0.1:8099/v1';

/**
 * The environment every service gets: the caller's environment with the gateway's defaults filled in.
 * @param {Record<string, string | undefined>} env
 * @param {{ masterKey: string }} opts
 * @returns {Record<string, string>}
 */
/**
 * V8 flags of every service (NODE_OPTIONS, unless the caller sets its own): a 32 MB young generation instead of
 * V8's default 16 MB halves the scavenges of a request-heavy service; `profile.mjs` showed 11 % less CPU per request
 * summed over the services at concurrency 64 (ADR 0014). The test stack (packages/testing) and docker-compose.yml
 * set the same value.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=32';

export function serviceEnv(env, opts) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const defaults = {
    NATS_URL: 'nats://127.0.0.1:4222',
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gateway',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_PREFIX: 'gw',
    PORT: '8080',
    HOST: '0.0.0.0',
    BILLING_PORT: '8090',
    SIMULATOR_URL: DEFAULT_SIMULATOR_URL,
    LOG_LEVEL: 'log',
    NODE_OPTIONS: SERVICE_NODE_OPTIONS,
  };
  for (const [k, v] of Object.entries(defaults)) if (!out[k]) out[k] = v;
  out['GATEWAY_MASTER_KEY'] = opts.masterKey;
  if (out['GATEWAY_CONFIG'] === '') delete out['GATEWAY_CONFIG'];
  return out;
}

/** @returns {string} a new master key */
export function newMasterKey() {
  return `sk-gw-master-${randomBytes(24).toString('hex')}`;
}

/**
 * Whether the launcher starts the built-in provider simulator, and why.
 * GW_SIMULATOR=1/0 forces it. Otherwise: not when SIMULATOR_URL points somewhere already; with no
 * GATEWAY_CONFIG, only when no provider key is set; with a GATEWAY_CONFIG, when that file uses ${SIMULATOR_URL}.
 * @param {Record<string, string | undefined>} env
 * @param {string | undefined} configText the text of GATEWAY_CONFIG, when set and readable
 * @returns {{ start: boolean, reason: string }}
 */
export function simulatorDecision(env, configText) {
  const force = env['GW_SIMULATOR'];
  if (force === '1' || force === 'true') return { start: true, reason: 'GW_SIMULATOR=1' };
  if (force === '0' || force === 'false') return { start: false, reason: 'GW_SIMULATOR=0' };
  if (env['SIMULATOR_URL']) return { start: false, reason: `SIMULATOR_URL is set (${env['SIMULATOR_URL']})` };
  if (env['GATEWAY_CONFIG']) {
    return configText !== undefined && configText.includes('${SIMULATOR_URL}')
      ? { start: true, reason: 'GATEWAY_CONFIG uses ${SIMULATOR_URL}' }
      : { start: false, reason: 'GATEWAY_CONFIG is set' };
  }
  const keys = PROVIDER_KEY_VARS.filter((k) => env[k]);
  if (keys.length > 0) return { start: false, reason: `provider keys are set (${keys.join(', ')})` };
  return {
    start: true,
    reason: 'no GATEWAY_CONFIG and no provider key: the built-in simulated provider answers',
  };
}

/**
 * Splits a byte stream into lines; a partial last line waits for the next chunk (or for flush()).
 * @param {(line: string) => void} onLine
 * @returns {{ push(chunk: Buffer | string): void, flush(): void }}
 */
export function lineSplitter(onLine) {
  let rest = '';
  return {
    push(chunk) {
      const text = rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
    },
    flush() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

/**
 * `[name    ] line`, the name padded to `width`.
 * @param {string} name
 * @param {number} width
 * @param {string} line
 */
export function prefixLine(name, width, line) {
  return `[${name.padEnd(width)}] ${line}`;
}

/**
 * Restart policy of the supervisor: exponential backoff after each crash, reset when a process had been up
 * for `stableMs`; after `maxBootFailures` crashes in a row, each within `bootMs` of its start, give up.
 * @typedef {{ baseMs: number, maxMs: number, stableMs: number, bootMs: number, maxBootFailures: number }} RestartPolicy
 * @typedef {{ crashes: number, bootFailures: number }} RestartState
 */

/** @type {RestartPolicy} */
export const DEFAULT_RESTART_POLICY = {
  baseMs: 500,
  maxMs: 30_000,
  stableMs: 60_000,
  bootMs: 5_000,
  maxBootFailures: 5,
};

/**
 * What to do after a crash that happened `uptimeMs` after the start.
 * @param {RestartState} state consecutive crashes so far (before this one)
 * @param {number} uptimeMs
 * @param {RestartPolicy} [policy]
 * @returns {{ action: 'restart', delayMs: number, state: RestartState, duringBoot: boolean } | { action: 'give-up', state: RestartState, duringBoot: true }}
 */
export function afterCrash(state, uptimeMs, policy = DEFAULT_RESTART_POLICY) {
  const prior = uptimeMs >= policy.stableMs ? { crashes: 0, bootFailures: 0 } : state;
  const duringBoot = uptimeMs < policy.bootMs;
  const next = { crashes: prior.crashes + 1, bootFailures: duringBoot ? prior.bootFailures + 1 : 0 };
  if (duringBoot && next.bootFailures >= policy.maxBootFailures)
    return { action: 'give-up', state: next, duringBoot: true };
  const delayMs = Math.min(policy.maxMs, policy.baseMs * 2 ** (next.crashes - 1));
  return { action: 'restart', delayMs, state: next, duringBoot };
}

/**
 * `how the process ended`, for humans.
 * @param {number | null} code
 * @param {string | null} signal
 */
export function describeExit(code, signal) {
  return signal ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
}

/**
 * The totals of a vitest JSON report (--reporter=json). A test file that failed to load (no test in it ran)
 * counts as one failure, so that a broken import can't pass silently.
 * @param {unknown} report
 * @returns {{ passed: number, failed: number, skipped: number, brokenFiles: string[], failedTests: string[] }}
 */
export function summarizeVitest(report) {
  const r =
    /** @type {{ numPassedTests?: number, numFailedTests?: number, numPendingTests?: number, numTodoTests?: number, testResults?: Array<{ name?: string, status?: string, message?: string, assertionResults?: Array<{ status?: string, fullName?: string, title?: string }> }> }} */ (
      report && typeof report === 'object' ? report : {}
    );
  const brokenFiles = [];
  const failedTests = [];
  for (const file of r.testResults ?? []) {
    const results = file.assertionResults ?? [];
    for (const a of results) if (a.status === 'failed') failedTests.push(a.fullName ?? a.title ?? '?');
    if (file.status === 'failed' && !results.some((a) => a.status === 'failed')) {
      brokenFiles.push(`${file.name ?? '?'}${file.message ? `: ${file.message.split('\n')[0]}` : ''}`);
    }
  }
  return {
    passed: r.numPassedTests ?? 0,
    failed: (r.numFailedTests ?? 0) + brokenFiles.length,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    brokenFiles,
    failedTests,
  };
}
