import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Budgets } from '@gw/budgets';
import { contracts, formatNanoUsd, type UsageEventInput } from '@gw/contracts';
import { dropDatabase, ensureDatabase, migrate } from '@gw/db';
import { Redis } from 'ioredis';
import pg from 'pg';
import { firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBilling } from './app.js';
import { sha256Hex } from './auth/finance-auth.guard.js';
import { loadEnv } from './config/env.js';
import { RollupRpc } from './rollup/rollup.rpc.js';
import { usageEvent } from './testing/harness.js';

/**
 * Real Postgres (a fresh database for this file) and real NATS JetStream. The usage consumer reads a unique stream,
 * subject and durable, so this file neither steals events from nor shares state with anything else on this NATS.
 */
const ADMIN_URL = process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const suffix = randomBytes(4).toString('hex');
const dbName = `gw_billing_${suffix}`;
const DB_URL = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
const target = { stream: `USAGE_TEST_${suffix}`, subject: `test.billing.usage.${suffix}`, durableName: `billing-usage-${suffix}`, ackWaitMs: 2_000 };
const MASTER = `master-${suffix}-0123456789`;
const REDIS_PREFIX = `gwbilling${suffix}`;
const env = loadEnv({ NATS_URL, DATABASE_URL: DB_URL, GATEWAY_MASTER_KEY: MASTER, LOG_LEVEL: 'error', USAGE_BATCH_SIZE: '100', HOST: '127.0.0.1', REDIS_PREFIX });

let db: pg.Client;
let nc: NatsConnection;
let app: NestFastifyApplication | null = null;
let base = '';

async function start(): Promise<void> {
  app = await startBilling(env, { usageTarget: target, port: 0 });
  const addr = app.getHttpServer().address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${addr.port}`;
}
async function stop(): Promise<void> {
  await app?.close();
  app = null;
}

function usage(requestId: string, over: Partial<UsageEventInput> = {}): UsageEventInput {
  return usageEvent(requestId, { teamId: 'team-ingest', keyId: 'key-ingest', costNanoUsd: '1000000001', ...over });
}

async function publishAll(events: Array<{ payload: unknown; msgID: string }>): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < events.length; i += 100) {
    await Promise.all(
      events.slice(i, i + 100).map((e) => js.publish(target.subject, new TextEncoder().encode(JSON.stringify(e.payload)), { msgID: e.msgID })),
    );
  }
}

async function count(sql: string, values: unknown[] = []): Promise<number> {
  return Number((await db.query<{ n: string }>(sql, values)).rows[0]!.n);
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function get(path: string, key: string | null = MASTER, headerName = 'authorization'): Promise<Response> {
  const headers: Record<string, string> = {};
  if (key !== null) headers[headerName] = headerName === 'authorization' ? `Bearer ${key}` : key;
  return fetch(`${base}${path}`, { headers });
}

beforeAll(async () => {
  await ensureDatabase(ADMIN_URL, dbName);
  await migrate(DB_URL);
  db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  nc = await connect({ servers: NATS_URL });
  await start();
});

afterAll(async () => {
  await stop();
  await jetstreamManager(nc)
    .then((jsm) => jsm.streams.delete(target.stream))
    .catch(() => undefined);
  await nc?.drain();
  await db?.end();
  await dropDatabase(ADMIN_URL, dbName);
});

describe('durable usage consumption', () => {
  it('1000 events with 200 duplicates become exactly 800 rows, across a restart of the consumer', async () => {
    const unique = Array.from({ length: 800 }, (_, i) => usage(`ing-${suffix}-${i}`, { inputTokens: i, costNanoUsd: String(1_000_000_000 + i) }));
    // duplicates under other message ids: JetStream's own dedupe does not catch them, the table must
    const dupes = unique.filter((_, i) => i % 4 === 0).map((e) => ({ payload: e, msgID: `${e.requestId}#again` }));
    const all = [...unique.map((e) => ({ payload: e, msgID: e.requestId })), ...dupes];
    all.sort((a, b) => (a.msgID < b.msgID ? -1 : 1));
    expect(all).toHaveLength(1000);

    await publishAll(all.slice(0, 500));
    await waitFor('the first rows', async () => (await count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`, [`ing-${suffix}-%`])) > 0);
    await stop(); // mid-way: some of the first half may still be unprocessed
    await publishAll(all.slice(500));
    await start();

    const mine = `SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`;
    await waitFor('800 rows', async () => (await count(mine, [`ing-${suffix}-%`])) === 800);
    // everything acked: nothing pending or in flight for the durable
    const jsm = await jetstreamManager(nc);
    await waitFor('the durable to drain', async () => {
      const info = await jsm.consumers.info(target.stream, target.durableName);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
    expect(await count(mine, [`ing-${suffix}-%`])).toBe(800);
    const sums = (
      await db.query<{ tokens: string; cost: string; ids: string }>(
        `SELECT sum(input_tokens)::text AS tokens, sum(cost_nano_usd)::text AS cost, count(DISTINCT request_id)::text AS ids
           FROM billing.usage_records WHERE request_id LIKE $1`,
        [`ing-${suffix}-%`],
      )
    ).rows[0]!;
    expect(sums).toEqual({ tokens: String((799 * 800) / 2), cost: String(800n * 1_000_000_000n + (799n * 800n) / 2n), ids: '800' });
  });

  it('a malformed event is dropped and does not hold up the ones behind it', async () => {
    const js = jetstream(nc);
    await js.publish(target.subject, new TextEncoder().encode('{not json'), { msgID: `bad-${suffix}-1` });
    await js.publish(target.subject, new TextEncoder().encode(JSON.stringify({ requestId: 'x' })), { msgID: `bad-${suffix}-2` });
    await js.publish(target.subject, new TextEncoder().encode(JSON.stringify(usage(`after-bad-${suffix}`))), { msgID: `after-bad-${suffix}` });
    await waitFor('the good event', async () => (await count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id = $1`, [`after-bad-${suffix}`])) === 1);
    const jsm = await jetstreamManager(nc);
    await waitFor('nothing left pending', async () => {
      const info = await jsm.consumers.info(target.stream, target.durableName);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  });

  it('while the table cannot be written the batch is redelivered, and stored once it can', async () => {
    await db.query('ALTER TABLE billing.usage_records RENAME TO usage_records_away');
    try {
      await publishAll([0, 1, 2].map((i) => ({ payload: usage(`outage-${suffix}-${i}`), msgID: `outage-${suffix}-${i}` })));
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await count(`SELECT count(*) AS n FROM billing.usage_records_away WHERE request_id LIKE $1`, [`outage-${suffix}-%`])).toBe(0);
    } finally {
      await db.query('ALTER TABLE billing.usage_records_away RENAME TO usage_records');
    }
    await waitFor('the redelivered batch', async () => (await count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`, [`outage-${suffix}-%`])) === 3);
  });
});

/** Rows written straight into the table for the report tests, in January 2025 (apart from the ingest tests). */
async function seedReports(): Promise<void> {
  const rows: Array<[string, string, string | null, string | null, string, string | null, number, number, string, string]> = [
    // request id, occurred at, team, key, requested model, provider, in, out, cost nano, cache
    ['rep-1', '2025-01-05T10:00:00Z', 'team-a', 'key-a1', 'gpt-4o', 'openai', 100, 10, '123456789', 'miss'],
    ['rep-2', '2025-01-05T10:30:00Z', 'team-a', 'key-a2', 'gpt-4o', 'openai', 200, 20, '1', 'miss'],
    ['rep-3', '2025-01-05T11:10:00Z', 'team-a', 'key-a1', 'claude', 'anthropic', 300, 30, '999999999', 'miss'],
    ['rep-4', '2025-01-06T09:00:00Z', 'team-b', 'key-b1', 'gpt-4o', 'openai', 400, 40, '0', 'hit'],
    ['rep-5', '2025-01-06T23:59:59.999Z', 'team-b', 'key-b1', 'claude', 'anthropic', 500, 50, '5000000000', 'miss'],
    ['rep-6', '2025-01-07T00:00:00Z', null, null, 'gpt-4o', null, 1, 1, '7', 'bypass'],
  ];
  for (const r of rows) {
    await db.query(
      `INSERT INTO billing.usage_records (request_id, occurred_at, team_id, key_id, requested_model, provider_id, model, input_tokens, output_tokens,
         cost_nano_usd, latency_ms, cache_status, status, tags) VALUES ($1, $2, $3, $4, $5, $6, $5, $7, $8, $9, 10, $10, 'ok', $11)`,
      [...r, JSON.stringify({ note: 'a,"b"' })],
    );
  }
}

describe('finance HTTP API', () => {
  beforeAll(async () => {
    await seedReports();
    await db.query(`INSERT INTO identity.teams (id, name, budget_nano_usd, budget_period) VALUES ('team-a', 'Team A', 5000000000, 'total'), ('team-b', 'Team B', NULL, NULL)`);
    await db.query(
      `INSERT INTO identity.api_keys (id, team_id, name, key_hash, key_prefix, role, budget_nano_usd, budget_period, revoked_at) VALUES
         ('key-fin', 'team-a', 'finance', $1, 'sk-fin', 'finance', NULL, NULL, NULL),
         ('key-adm', 'team-a', 'admin', $2, 'sk-adm', 'admin', NULL, NULL, NULL),
         ('key-mem', 'team-a', 'member', $3, 'sk-mem', 'member', NULL, NULL, NULL),
         ('key-old', 'team-a', 'revoked', $4, 'sk-old', 'finance', NULL, NULL, now()),
         ('key-a1', 'team-a', 'a1', $5, 'sk-a1', 'member', 1000000000, 'daily', NULL)`,
      [sha256Hex(`fin-${suffix}`), sha256Hex(`adm-${suffix}`), sha256Hex(`mem-${suffix}`), sha256Hex(`old-${suffix}`), sha256Hex(`a1-${suffix}`)],
    );
  });

  it('auth: the master key, finance and admin keys pass; no key or an unknown/revoked key is 401; a member key is 403', async () => {
    const path = '/billing/v1/spend?from=2025-01-01&to=2025-02-01';
    expect((await get(path)).status).toBe(200);
    expect((await get(path, `fin-${suffix}`)).status).toBe(200);
    expect((await get(path, `adm-${suffix}`, 'x-api-key')).status).toBe(200);
    for (const key of [null, 'nope-nope-nope', `old-${suffix}`]) {
      const r = await get(path, key);
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: { type: string; code: string; message: string; param: unknown } };
      expect(body.error).toMatchObject({ type: 'authentication_error', code: 'unauthenticated', param: null });
      expect(typeof body.error.message).toBe('string');
    }
    const forbidden = await get(path, `mem-${suffix}`);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { type: string } }).error.type).toBe('permission_error');
  });

  it('spend: exact sums per team, key, model, provider and day', async () => {
    const spend = async (q: string) => {
      const r = await get(`/billing/v1/spend?from=2025-01-01&to=2025-02-01&${q}`);
      expect(r.status).toBe(200);
      return ((await r.json()) as { data: unknown[] }).data;
    };
    expect(await spend('groupBy=team')).toEqual([
      { group: 'team-b', requests: 2, inputTokens: 900, outputTokens: 90, cachedRequests: 1, costUsd: '5.000000000', costNanoUsd: '5000000000', savingUsd: '0.000000000' },
      { group: 'team-a', requests: 3, inputTokens: 600, outputTokens: 60, cachedRequests: 0, costUsd: '1.123456789', costNanoUsd: '1123456789', savingUsd: '0.000000000' },
      { group: null, requests: 1, inputTokens: 1, outputTokens: 1, cachedRequests: 0, costUsd: '0.000000007', costNanoUsd: '7', savingUsd: '0.000000000' },
    ]);
    expect((await spend('groupBy=key&teamId=team-a')).map((r) => [(r as { group: string }).group, (r as { costUsd: string }).costUsd])).toEqual([
      ['key-a1', '1.123456788'],
      ['key-a2', '0.000000001'],
    ]);
    expect((await spend('groupBy=model')).map((r) => [(r as { group: string }).group, (r as { requests: number }).requests])).toEqual([
      ['claude', 2],
      ['gpt-4o', 4],
    ]);
    expect((await spend('groupBy=provider')).map((r) => (r as { costNanoUsd: string }).costNanoUsd)).toEqual(['5999999999', '123456790', '7']);
    expect((await spend('groupBy=day')).map((r) => [(r as { group: string }).group, (r as { costUsd: string }).costUsd])).toEqual([
      ['2025-01-05', '1.123456789'],
      ['2025-01-06', '5.000000000'],
      ['2025-01-07', '0.000000007'],
    ]);
  });

  it('spend reads whole rolled-up days from the daily rollup and the rest raw, with the same exact sums', async () => {
    const spend = async (q: string) => {
      const r = await get(`/billing/v1/spend?${q}`);
      expect(r.status).toBe(200);
      return ((await r.json()) as { data: unknown[] }).data;
    };
    const queries = ['team', 'key', 'model', 'provider', 'day'].flatMap((g) => [
      `groupBy=${g}&from=2025-01-01&to=2025-02-01`,
      `groupBy=${g}&from=2025-01-05T10:15:00Z&to=2025-01-07T00:00:00.001Z`,
      `groupBy=${g}&from=2025-01-01&to=2025-02-01&provider=openai&model=gpt-4o`,
    ]);
    const before = await Promise.all(queries.map(spend));
    const rolled = await app!.get(RollupRpc).rollupDays({ days: ['2025-01-05', '2025-01-06', '2025-01-07'] });
    expect(rolled.days.map((d) => d.rows)).toEqual([3, 2, 1]);
    expect(await count(`SELECT count(*) AS n FROM billing.spend_daily_state WHERE day BETWEEN '2025-01-05' AND '2025-01-07'`)).toBe(3);
    expect(await Promise.all(queries.map(spend))).toEqual(before);
    // the rollup really answers: a rolled-up day shows its (deliberately changed) rollup row, not the raw one
    await db.query(`UPDATE billing.spend_daily SET requests = requests + 1000 WHERE day = '2025-01-07'`);
    expect(((await spend('groupBy=day&from=2025-01-07&to=2025-01-08'))[0] as { requests: number }).requests).toBe(1001);
    expect(((await spend('groupBy=day&from=2025-01-07T00:00:00Z&to=2025-01-07T12:00:00Z'))[0] as { requests: number }).requests).toBe(1);
    await app!.get(RollupRpc).rollupDays({ days: ['2025-01-07'] });
    expect(await Promise.all(queries.map(spend))).toEqual(before);
  });

  it('bad query parameters are a 400 in the OpenAI error shape', async () => {
    for (const q of ['groupBy=colour', 'from=yesterday', 'from=2025-02-01&to=2025-01-01', 'bogus=1', 'groupBy=team&groupBy=key']) {
      const r = await get(`/billing/v1/spend?${q}`);
      expect(r.status, q).toBe(400);
      const body = (await r.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toMatch(/^invalid query: /);
    }
    expect((await get('/billing/v1/usage?limit=5000')).status).toBe(400);
    expect((await get('/billing/v1/usage?cursor=abc')).status).toBe(400);
    expect((await get('/billing/v1/export?format=xlsx')).status).toBe(400);
  });

  it('usage: cursor pages walk every record once, newest first', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/billing/v1/usage?from=2025-01-01&to=2025-02-01&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      const page = (await r.json()) as { data: Array<{ requestId: string; costUsd: string; tags: unknown }>; nextCursor: string | null; hasMore: boolean };
      ids.push(...page.data.map((d) => d.requestId));
      cursor = page.nextCursor;
      expect(page.hasMore).toBe(cursor !== null);
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(ids).toEqual(['rep-6', 'rep-5', 'rep-4', 'rep-3', 'rep-2', 'rep-1']);
    const one = (await (await get('/billing/v1/usage?from=2025-01-05&to=2025-01-06&keyId=key-a2')).json()) as { data: Array<Record<string, unknown>> };
    expect(one.data).toHaveLength(1);
    expect(one.data[0]).toMatchObject({ requestId: 'rep-2', costUsd: '0.000000001', costNanoUsd: '1', teamId: 'team-a', tags: { note: 'a,"b"' } });
  });

  it('export: CSV streamed from a cursor, every record of the window, one line each', async () => {
    await db.query(
      `INSERT INTO billing.usage_records (request_id, occurred_at, team_id, requested_model, input_tokens, output_tokens, cost_nano_usd, latency_ms, cache_status, status)
       SELECT 'bulk-' || g, timestamptz '2024-06-01T00:00:00Z' + g * interval '1 second', 'team-bulk', 'gpt-4o', g, 1, g, 5, 'miss', 'ok'
         FROM generate_series(1, 1234) g`,
    );
    const r = await get('/billing/v1/export?from=2024-06-01&to=2024-07-01&format=csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="usage_2024-06-01_2024-07-01.csv"');
    const lines = (await r.text()).split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]!.startsWith('request_id,occurred_at,')).toBe(true);
    expect(lines).toHaveLength(1 + 1234);
    expect(lines[1]!.startsWith('bulk-1,2024-06-01T00:00:01.000Z,,team-bulk,')).toBe(true);
    expect(lines[1234]!.startsWith('bulk-1234,')).toBe(true);

    const quoted = await (await get('/billing/v1/export?from=2025-01-05&to=2025-01-06')).text();
    expect(quoted).toContain('"{""note"":""a,\\""b\\""""}"');
  });

  it('budgets: every team and live key with a budget, spent in its period, exact', async () => {
    const r = await get('/billing/v1/budgets');
    expect(r.status).toBe(200);
    const { data } = (await r.json()) as { data: Array<Record<string, unknown>> };
    const team = data.find((d) => d['id'] === 'team-a');
    expect(team).toMatchObject({ type: 'team', name: 'Team A', period: 'total', periodStart: null, budgetUsd: '5.000000000', spentUsd: '1.123456789', reservedUsd: '0.000000000', remainingUsd: '3.876543211' });
    // a request the ingress admitted and billing has not settled yet holds its worst case on the team's budget
    const redis = new Redis(env.REDIS_URL);
    try {
      const admitted = await new Budgets(redis, { prefix: REDIS_PREFIX }).admit({
        requestId: `held-${suffix}`,
        nowMs: Date.now(),
        tokens: 10,
        amountNanoUsd: 250_000_000n,
        rates: [],
        budgets: [{ scope: 'team', id: 'team-a', limitNanoUsd: 5_000_000_000n, period: 'total' }],
      });
      expect(admitted.ok).toBe(true);
      const held = (await (await get('/billing/v1/budgets')).json()) as { data: Array<Record<string, unknown>> };
      expect(held.data.find((d) => d['id'] === 'team-a')).toMatchObject({ reservedUsd: '0.250000000', remainingUsd: '3.626543211' });
    } finally {
      const keys = await redis.keys(`${REDIS_PREFIX}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    // key-a1's budget is daily: its January spend is not in today's period
    const key = data.find((d) => d['id'] === 'key-a1');
    expect(key).toMatchObject({ type: 'key', teamId: 'team-a', period: 'daily', budgetUsd: '1.000000000', spentUsd: '0.000000000', remainingUsd: '1.000000000' });
    expect(String(key!['periodStart'])).toBe(`${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);
    expect(data.find((d) => d['id'] === 'team-b')).toBeUndefined();
  });

  it('health and readiness', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: { ok: true }, nats: { ok: true } } });
  });
});

describe('control plane', () => {
  it('rollup of an hour aggregates the raw records, and running it again changes nothing', async () => {
    const rpc = app!.get(RollupRpc);
    const first = await rpc.rollupHour({ hourStart: '2025-01-05T10:00:00.000Z' });
    expect(first).toEqual({ rows: 2, hourStart: '2025-01-05T10:00:00.000Z' });
    const read = async (): Promise<Array<Record<string, unknown>>> =>
      (
        await db.query<Record<string, unknown>>(
          `SELECT team_id, key_id, model, provider_id, requests, input_tokens::text, cost_nano_usd::text FROM billing.spend_hourly
            WHERE hour_start = '2025-01-05T10:00:00Z' ORDER BY key_id`,
        )
      ).rows;
    const rows = await read();
    expect(rows).toEqual([
      { team_id: 'team-a', key_id: 'key-a1', model: 'gpt-4o', provider_id: 'openai', requests: 1, input_tokens: '100', cost_nano_usd: '123456789' },
      { team_id: 'team-a', key_id: 'key-a2', model: 'gpt-4o', provider_id: 'openai', requests: 1, input_tokens: '200', cost_nano_usd: '1' },
    ]);
    expect(await rpc.rollupHour({ hourStart: '2025-01-05T10:00:00.000Z' })).toEqual(first);
    expect(await read()).toEqual(rows);
    await expect(rpc.rollupHour({ hourStart: 'not a time' })).rejects.toThrow();
  });

  it('answers billingPing over NATS', async () => {
    const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [NATS_URL] } });
    try {
      const pong = await firstValueFrom(client.send<{ service: string; at: number }>(contracts.billingPing.subject, {}).pipe(timeout(5_000)));
      expect(pong.service).toBe('billing');
    } finally {
      await client.close();
    }
  });

  it('a cost is formatted exactly (no float on the way)', () => {
    expect(formatNanoUsd(9_007_199_254_740_993n)).toBe('9007199.254740993');
  });
});
