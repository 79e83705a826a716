import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'node:net';
import { dropDatabase, ensureDatabase, migrate } from '@gw/db';
import { startSimulator, type Simulator } from '../simulator/index.js';
import { freePort, waitFor } from './ports.js';
import { ProcessGroup } from './processes.js';

export const SERVICES = ['router', 'executor', 'cache', 'moderation', 'billing', 'worker', 'ingress'] as const;
export type StackService = (typeof SERVICES)[number];

export type StackOptions = {
  /** YAML of the gateway config; `${SIMULATOR_URL}` points at this stack's simulator (OpenAI-style base, /v1). */
  configYaml?: string;
  /** extra env for every service; `${SIMULATOR_URL}` / `${SIMULATOR_ROOT_URL}` in a value become this stack's simulator URLs */
  env?: Record<string, string>;
  /** services to leave out */
  without?: StackService[];
  /** more than one process of a service without an HTTP port (router, executor, cache, moderation, worker): `router-2`, ... */
  replicas?: Partial<Record<Exclude<StackService, 'ingress' | 'billing'>, number>>;
  postgresAdminUrl?: string;
  redisUrl?: string;
};

export type Stack = {
  ingressUrl: string;
  billingUrl: string;
  natsUrl: string;
  databaseUrl: string;
  masterKey: string;
  simulator: Simulator;
  processes: ProcessGroup;
  stop(service: StackService, signal?: NodeJS.Signals): Promise<void>;
  start(service: StackService): Promise<void>;
  close(): Promise<void>;
  /** POST /admin/v1/teams then /admin/v1/keys: a ready-to-use virtual key */
  createKey(opts?: { teamName?: string; models?: string[]; role?: 'member' | 'admin' | 'finance' }): Promise<{ key: string; keyId: string; teamId: string }>;
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function natsServerBinary(): string {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) if (existsSync(p)) return p;
  throw new Error('nats-server is not installed: run infra/local/up.sh (it installs it from Debian packages)');
}

/**
 * The whole gateway for an end-to-end test: a private nats-server (JetStream, temp dir), a fresh Postgres
 * database with the migrations, a Redis key prefix of its own, the provider simulator, and the seven built
 * services as child processes. Nothing is shared with another stack or with a running `bin/gateway start`.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const echo = process.env['STACK_LOGS'] === '1';
  const group = new ProcessGroup(echo);
  const dir = mkdtempSync(path.join(tmpdir(), `gw-stack-${id}-`));
  const adminUrl = opts.postgresAdminUrl ?? process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `gw_e2e_${id}`;
  const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${dbName}`);
  const simulator = await startSimulator({ port: 0 });
  const cleanups: Array<() => Promise<void>> = [async () => simulator.close()];

  try {
    const natsPort = await freePort();
    group.start({ name: 'nats', command: natsServerBinary(), args: ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', path.join(dir, 'js')], env: process.env });
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    await ensureDatabase(adminUrl, dbName);
    cleanups.push(() => dropDatabase(adminUrl, dbName));
    await migrate(databaseUrl);
    await waitFor('nats-server', () => tcpOpen(natsPort), 10_000);

    const port = await freePort();
    const billingPort = await freePort();
    const masterKey = `sk-gw-master-${randomBytes(12).toString('hex')}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      NODE_ENV: 'test',
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL: opts.redisUrl ?? process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `gwe2e${id}`,
      PORT: String(port),
      HOST: '127.0.0.1',
      BILLING_PORT: String(billingPort),
      GATEWAY_MASTER_KEY: masterKey,
      SIMULATOR_URL: `${simulator.url}/v1`,
      /** the simulator's host root, for providers whose base URL is the host (anthropic, gemini) */
      SIMULATOR_ROOT_URL: simulator.url,
      LOG_LEVEL: echo ? 'log' : 'warn',
      // the services' V8 flags as the launcher sets them (scripts/lib/launcher.mjs SERVICE_NODE_OPTIONS, ADR 0014)
      NODE_OPTIONS: '--max-semi-space-size=32',
    };
    for (const [k, v] of Object.entries(opts.env ?? {})) env[k] = v.replaceAll('${SIMULATOR_URL}', `${simulator.url}/v1`).replaceAll('${SIMULATOR_ROOT_URL}', simulator.url);
    if (opts.configYaml) {
      const file = path.join(dir, 'gateway.yaml');
      writeFileSync(file, opts.configYaml);
      env['GATEWAY_CONFIG'] = file;
    }
    const services = SERVICES.filter((s) => !opts.without?.includes(s));
    // optional profiling hook: STACK_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' goes to every service's node
    const nodeArgs = (process.env['STACK_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    for (const s of services) {
      const n = s === 'ingress' || s === 'billing' ? 1 : (opts.replicas?.[s] ?? 1);
      for (let i = 1; i <= n; i++) {
        group.start({ name: i === 1 ? s : `${s}-${i}`, command: process.execPath, args: [...nodeArgs, path.join(ROOT, 'apps', s, 'dist', 'main.js')], env, cwd: ROOT });
      }
    }
    const ingressUrl = `http://127.0.0.1:${port}`;
    const billingUrl = `http://127.0.0.1:${billingPort}`;
    if (services.includes('ingress')) {
      await waitFor('the ingress to be ready', async () => (await fetch(`${ingressUrl}/ready`)).status === 200, 60_000, 200).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${group.allLogs()}`);
      });
    }
    if (services.includes('billing')) {
      await waitFor('billing to be ready', async () => (await fetch(`${billingUrl}/ready`)).status === 200, 60_000, 200).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${group.allLogs()}`);
      });
    }

    const stack: Stack = {
      ingressUrl,
      billingUrl,
      natsUrl,
      databaseUrl,
      masterKey,
      simulator,
      processes: group,
      stop: (service, signal) => group.stop(service, signal),
      start: async (service) => {
        group.restart(service);
      },
      close: async () => {
        await group.stopAll();
        for (const c of cleanups.reverse()) await c().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
      createKey: async (o = {}) => {
        const admin = { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' };
        const teamRes = await fetch(`${ingressUrl}/admin/v1/teams`, {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ name: o.teamName ?? `team-${randomBytes(4).toString('hex')}` }),
        });
        if (teamRes.status !== 201 && teamRes.status !== 200) throw new Error(`create team: ${teamRes.status} ${await teamRes.text()}`);
        const team = (await teamRes.json()) as { id: string };
        const body: Record<string, unknown> = { teamId: team.id, name: 'e2e' };
        if (o.models) body['models'] = o.models;
        if (o.role) body['role'] = o.role;
        const keyRes = await fetch(`${ingressUrl}/admin/v1/keys`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
        if (keyRes.status !== 201 && keyRes.status !== 200) throw new Error(`create key: ${keyRes.status} ${await keyRes.text()}`);
        const key = (await keyRes.json()) as { id: string; key: string };
        return { key: key.key, keyId: key.id, teamId: team.id };
      },
    };
    return stack;
  } catch (err) {
    await group.stopAll();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
