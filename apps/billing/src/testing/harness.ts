import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig, UsageEventInput } from '@gw/contracts';
import { dropDatabase, ensureDatabase, migrate } from '@gw/db';
import pg from 'pg';
import { startBilling } from '../app.js';
import { loadEnv } from '../config/env.js';

/**
 * A billing service for one test file: a fresh database (migrated, dropped at the end), real NATS JetStream on a
 * unique stream/subject/durable, the HTTP API on a free port. Shares nothing with other tests on these servers.
 */
export type BillingHarness = {
  suffix: string;
  master: string;
  db: pg.Pool;
  nc: NatsConnection;
  base: () => string;
  app: () => NestFastifyApplication;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  publish: (events: Array<{ payload: unknown; msgID: string }>) => Promise<void>;
  count: (sql: string, values?: unknown[]) => Promise<number>;
  waitFor: (what: string, fn: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
  /** waits until the durable has nothing pending or unacked */
  drained: () => Promise<void>;
  http: (method: string, path: string, body?: unknown, key?: string | null) => Promise<{ status: number; json: unknown; text: string }>;
  close: () => Promise<void>;
};


export function usageEvent(requestId: string, over: Partial<UsageEventInput> = {}): UsageEventInput {
  return {
    requestId,
    occurredAt: Date.parse('2025-02-10T10:15:00Z'),
    orgId: null,
    teamId: 'team-1',
    keyId: 'key-1',
    endUser: null,
    requestedModel: 'gpt-4o-mini',
    providerId: 'openai',
    model: 'gpt-4o-mini',
    inputTokens: 10,
    outputTokens: 5,
    costNanoUsd: '1000',
    latencyMs: 120,
    cacheStatus: 'miss',
    status: 'ok',
    stream: false,
    ...over,
  };
}

/** `env`: the test's environment (POSTGRES_ADMIN_URL, NATS_URL), passed in by the spec file. */
export async function billingHarness(opts: {
  gatewayConfig?: GatewayConfig;
  batchSize?: number;
  name: string;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<BillingHarness> {
  const ADMIN_URL = opts.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const NATS_URL = opts.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const suffix = randomBytes(4).toString('hex');
  const dbName = `gw_${opts.name}_${suffix}`;
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const target = { stream: `USAGE_${opts.name.toUpperCase()}_${suffix}`, subject: `test.${opts.name}.usage.${suffix}`, durableName: `${opts.name}-${suffix}`, ackWaitMs: 2_000 };
  const master = `master-${suffix}-0123456789`;
  const env = loadEnv({ NATS_URL, DATABASE_URL: url, GATEWAY_MASTER_KEY: master, LOG_LEVEL: 'error', USAGE_BATCH_SIZE: String(opts.batchSize ?? 100), HOST: '127.0.0.1' });
  await ensureDatabase(ADMIN_URL, dbName);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 3 });
  const nc = await connect({ servers: NATS_URL });
  let app: NestFastifyApplication | null = null;
  let base = '';

  const h: BillingHarness = {
    suffix,
    master,
    db,
    nc,
    base: () => base,
    app: () => {
      if (!app) throw new Error('billing is not running');
      return app;
    },
    start: async () => {
      app = await startBilling(env, { usageTarget: target, port: 0, ...(opts.gatewayConfig ? { gatewayConfig: opts.gatewayConfig } : {}) });
      const addr = app.getHttpServer().address();
      if (!addr || typeof addr === 'string') throw new Error('no port');
      base = `http://127.0.0.1:${addr.port}`;
    },
    stop: async () => {
      await app?.close();
      app = null;
    },
    publish: async (events) => {
      const js = jetstream(nc);
      for (let i = 0; i < events.length; i += 200) {
        await Promise.all(events.slice(i, i + 200).map((e) => js.publish(target.subject, new TextEncoder().encode(JSON.stringify(e.payload)), { msgID: e.msgID })));
      }
    },
    count: async (sql, values = []) => Number((await db.query<{ n: string }>(sql, values)).rows[0]!.n),
    waitFor: async (what, fn, timeoutMs = 30_000) => {
      const until = Date.now() + timeoutMs;
      while (!(await fn())) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    drained: async () => {
      const jsm = await jetstreamManager(nc);
      await h.waitFor('the durable to drain', async () => {
        const info = await jsm.consumers.info(target.stream, target.durableName);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      });
    },
    http: async (method, path, body, key = master) => {
      const headers: Record<string, string> = {};
      if (key !== null) headers['authorization'] = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const r = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
      const text = await r.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      return { status: r.status, json, text };
    },
    close: async () => {
      await h.stop();
      await jetstreamManager(nc)
        .then((jsm) => jsm.streams.delete(target.stream))
        .catch(() => undefined);
      await nc.drain();
      await db.end();
      await dropDatabase(ADMIN_URL, dbName);
    },
  };
  return h;
}

/** The ledger's invariants, checked straight in SQL (independently of the reconciliation code). */
export async function ledgerInvariants(db: pg.Pool): Promise<{ unbalanced: number; badBalances: number; recordsWithoutTx: number; txCount: number; records: number }> {
  const q = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
  return {
    unbalanced: await q(
      `SELECT count(*) AS n FROM (SELECT t.id FROM billing.ledger_transactions t LEFT JOIN billing.ledger_entries e ON e.transaction_id = t.id
        GROUP BY t.id HAVING coalesce(sum(e.amount_nano_usd), 0) <> 0 OR count(e.id) < 2) x`,
    ),
    badBalances: await q(
      `SELECT count(*) AS n FROM billing.balances b FULL JOIN (SELECT account_id, sum(amount_nano_usd) s FROM billing.ledger_entries GROUP BY 1) e
        USING (account_id) WHERE b.balance_nano_usd IS DISTINCT FROM e.s`,
    ),
    recordsWithoutTx: await q(`SELECT count(*) AS n FROM billing.usage_records u WHERE NOT EXISTS (SELECT 1 FROM billing.ledger_transactions t WHERE t.usage_record_id = u.id)`),
    txCount: await q(`SELECT count(*) AS n FROM billing.ledger_transactions`),
    records: await q(`SELECT count(*) AS n FROM billing.usage_records`),
  };
}
