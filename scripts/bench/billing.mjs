#!/usr/bin/env node
// pnpm bench:billing — issue 6's two figures, on scratch databases and a private JetStream stream (nothing shared):
//  1. ingestion: N usage events are published to a private stream while billing is stopped, then billing starts and
//     we time until all N are in Postgres (usage rows + ledger transactions + entries + balances): events/s.
//  2. finance query: 10 million usage rows generated with generate_series in a scratch database (not via the app),
//     rolled up by the daily rollup, then GET /billing/v1/spend?groupBy=team for one month: median of R runs.
// Needs a build (pnpm turbo run build). Writes bench-results/billing-<time>.json and bench-results/billing-latest.json.
// Options: --events=50000 --batch=500 --rows=10000000 --runs=15 --skip-query --skip-ingest
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { startBilling } from '../../apps/billing/dist/app.js';
import { loadEnv } from '../../apps/billing/dist/config/env.js';
import { RollupRpc } from '../../apps/billing/dist/rollup/rollup.rpc.js';
import { dropDatabase, ensureDatabase, migrate } from '../../packages/db/dist/src/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const EVENTS = Number(args.get('events') ?? 50_000);
const ROWS = Number(args.get('rows') ?? 10_000_000);
const RUNS = Number(args.get('runs') ?? 15);
const BATCH = Number(args.get('batch') ?? 500);
const ADMIN_URL = process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const id = randomBytes(4).toString('hex');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scratch(name) {
  const db = `gw_bench_${name}_${id}`;
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${db}`);
  await ensureDatabase(ADMIN_URL, db);
  await migrate(url);
  return { url, drop: () => dropDatabase(ADMIN_URL, db) };
}

function billingEnv(url) {
  return loadEnv({ NATS_URL, DATABASE_URL: url, GATEWAY_MASTER_KEY: `bench-master-${id}-0123456789`, LOG_LEVEL: 'warn', HOST: '127.0.0.1', USAGE_BATCH_SIZE: String(BATCH) });
}
const emptyConfig = { providers: [], models: [], moderation: { cardNumbers: 'off' }, cache: { enabled: false, ttlSeconds: 60 } };

async function ingestion() {
  const db = await scratch('ingest');
  const target = { stream: `USAGE_BENCH_${id}`, subject: `bench.billing.usage.${id}`, durableName: `bench-${id}` };
  const nc = await connect({ servers: NATS_URL });
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  let app = null;
  try {
    await pool.query(
      `INSERT INTO billing.prices (provider_id, model, input_nano_per_mtok, output_nano_per_mtok, valid_from, source) VALUES ('openai', 'gpt-4o-mini', 150000000, 600000000, '2020-01-01', 'admin')`,
    );
    // create the stream and the durable (billing creates both on start), then stop: the events wait in the stream
    app = await startBilling(billingEnv(db.url), { usageTarget: target, port: 0, gatewayConfig: emptyConfig });
    await app.close();
    app = null;
    const js = jetstream(nc);
    const t0 = performance.now();
    const inflight = new Set();
    for (let i = 0; i < EVENTS; i++) {
      const e = {
        requestId: `bench-${id}-${i}`,
        occurredAt: Date.now() - (i % 86_400) * 1000,
        orgId: null,
        teamId: `team-${i % 50}`,
        keyId: `key-${i % 500}`,
        endUser: null,
        requestedModel: 'gpt-4o-mini',
        providerId: i % 3 === 0 ? 'anthropic' : 'openai',
        model: 'gpt-4o-mini',
        inputTokens: 100 + (i % 900),
        outputTokens: 10 + (i % 300),
        costNanoUsd: String(1000 + i),
        latencyMs: 50,
        cacheStatus: i % 10 === 0 ? 'hit' : 'miss',
        status: 'ok',
        stream: false,
        tags: { project: `p${i % 7}` },
      };
      const p = js.publish(target.subject, new TextEncoder().encode(JSON.stringify(e)), { msgID: e.requestId }).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 256) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const publishMs = performance.now() - t0;
    console.log(`published ${EVENTS} events in ${(publishMs / 1000).toFixed(1)} s; starting billing…`);
    const t1 = performance.now();
    app = await startBilling(billingEnv(db.url), { usageTarget: target, port: 0, gatewayConfig: emptyConfig });
    let firstAt = null;
    let firstN = 0;
    for (;;) {
      const n = Number((await pool.query('SELECT count(*) AS n FROM billing.ledger_transactions')).rows[0].n);
      if (n > 0 && firstAt === null) {
        firstAt = performance.now();
        firstN = n;
      }
      if (n >= EVENTS) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const doneAt = performance.now();
    const ingestMs = doneAt - t1;
    // steady state: from the first committed batch to the last (billing's boot excluded)
    const steadyMs = doneAt - firstAt;
    const check = (
      await pool.query(
        `SELECT (SELECT count(*) FROM billing.usage_records)::int AS records, (SELECT count(*) FROM billing.ledger_entries)::int AS entries,
                (SELECT coalesce(sum(amount_nano_usd), 0) FROM billing.ledger_entries)::text AS entry_sum`,
      )
    ).rows[0];
    return {
      events: EVENTS,
      batchSize: BATCH,
      wholeMs: Math.round(ingestMs),
      eventsPerSecondWithBoot: Math.round(EVENTS / (ingestMs / 1000)),
      steadyMs: Math.round(steadyMs),
      eventsPerSecond: Math.round((EVENTS - firstN) / (steadyMs / 1000)),
      check,
    };
  } finally {
    await app?.close();
    await jetstreamManager(nc).then((jsm) => jsm.streams.delete(target.stream)).catch(() => undefined);
    await nc.drain();
    await pool.end();
    await db.drop();
  }
}

async function financeQuery() {
  const db = await scratch('query');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  let app = null;
  try {
    // 10M rows over 92 days (2026-08-01 .. 2026-10-31): 50 teams, 500 keys, 10 models on 4 providers, 10% cache hits
    const start = Date.parse('2026-08-01T00:00:00Z');
    const spanS = 92 * 86_400;
    const chunk = 1_000_000;
    const t0 = performance.now();
    // bulk load: the indexes are dropped during the load and rebuilt after (the same ones migration 0001 creates)
    await pool.query(`ALTER TABLE billing.usage_records DROP CONSTRAINT usage_records_request_id_key`);
    for (const ix of ['usage_records_occurred_at_idx', 'usage_records_team_id_occurred_at_idx', 'usage_records_key_id_occurred_at_idx']) await pool.query(`DROP INDEX billing.${ix}`);
    for (let off = 0; off < ROWS; off += chunk) {
      const n = Math.min(chunk, ROWS - off);
      await pool.query(
        `INSERT INTO billing.usage_records (request_id, occurred_at, team_id, key_id, requested_model, provider_id, model, input_tokens, output_tokens,
           cost_nano_usd, saving_nano_usd, latency_ms, cache_status, status, tags)
         SELECT 'gen-' || g, to_timestamp($2::double precision + (g::bigint * 7919 % $3)), 'team-' || (g % 500 / 10), 'key-' || (g % 500),
                'model-' || (g % 10), 'provider-' || (g % 10 % 4), 'model-' || (g % 10), 100 + g % 900, 10 + g % 300,
                CASE WHEN g % 10 = 0 THEN 0 ELSE 1000 + g % 100000 END, CASE WHEN g % 10 = 0 THEN 1000 + g % 100000 ELSE 0 END,
                50, CASE WHEN g % 10 = 0 THEN 'hit' ELSE 'miss' END, 'ok', '{}'
           FROM generate_series($1::bigint, $1::bigint + $4 - 1) AS g`,
        [off, start / 1000, spanS, n],
      );
      process.stdout.write(`\rgenerated ${(off + n).toLocaleString()} rows`);
    }
    process.stdout.write(', indexing…');
    await pool.query(`ALTER TABLE billing.usage_records ADD CONSTRAINT usage_records_request_id_key UNIQUE (request_id)`);
    await pool.query(`CREATE INDEX usage_records_occurred_at_idx ON billing.usage_records(occurred_at)`);
    await pool.query(`CREATE INDEX usage_records_team_id_occurred_at_idx ON billing.usage_records(team_id, occurred_at)`);
    await pool.query(`CREATE INDEX usage_records_key_id_occurred_at_idx ON billing.usage_records(key_id, occurred_at)`);
    await pool.query('ANALYZE billing.usage_records');
    const generateMs = performance.now() - t0;
    console.log(` in ${(generateMs / 1000).toFixed(0)} s`);
    app = await startBilling(billingEnv(db.url), {
      usageTarget: { stream: `USAGE_BENCHQ_${id}`, subject: `bench.billingq.usage.${id}`, durableName: `benchq-${id}` },
      port: 0,
      gatewayConfig: emptyConfig,
    });
    const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
    const key = `bench-master-${id}-0123456789`;
    const spendUrl = `${base}/billing/v1/spend?groupBy=team&from=2026-10-01&to=2026-11-01`;
    const time = async (url) => {
      const t = performance.now();
      const r = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      const body = await r.json();
      if (r.status !== 200) throw new Error(`spend: ${r.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t, body };
    };
    const raw = await time(spendUrl);
    console.log(`month by team, raw records only (no rollup yet): ${raw.ms.toFixed(0)} ms`);
    const t1 = performance.now();
    const rolled = await app.get(RollupRpc).rollupDays({});
    const rollupMs = performance.now() - t1;
    console.log(`daily rollup of ${rolled.days.length} days in ${(rollupMs / 1000).toFixed(1)} s`);
    const samples = [];
    let same = true;
    for (let i = 0; i < RUNS; i++) {
      const r = await time(spendUrl);
      samples.push(r.ms);
      same &&= JSON.stringify(r.body) === JSON.stringify(raw.body);
    }
    const edges = await time(`${base}/billing/v1/spend?groupBy=team&from=2026-09-30T12:00:00Z&to=2026-10-31T12:00:00Z`);
    return {
      rows: ROWS,
      generateS: Math.round(generateMs / 1000),
      rawOnlyMs: Math.round(raw.ms),
      rollupDays: rolled.days.length,
      rollupS: Math.round(rollupMs / 100) / 10,
      monthByTeam: { runs: RUNS, medianMs: Math.round(median(samples) * 10) / 10, minMs: Math.round(Math.min(...samples) * 10) / 10, maxMs: Math.round(Math.max(...samples) * 10) / 10 },
      sameAnswerAsRaw: same,
      withHalfDayEdgesMs: Math.round(edges.ms),
      teams: raw.body.data.length,
    };
  } finally {
    await app?.close();
    await pool.end();
    await db.drop();
  }
}

function commit() {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  } catch {
    return null;
  }
}

const result = {
  at: new Date().toISOString(),
  commit: commit(),
  node: process.version,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), loadAvg: os.loadavg(), shared: 'yes: other sessions run on the same cores' },
};
if (!args.has('skip-ingest')) {
  result.ingestion = await ingestion();
  console.log('ingestion', result.ingestion);
}
if (!args.has('skip-query')) {
  result.financeQuery = await financeQuery();
  console.log('finance query', result.financeQuery);
}
const dir = path.join(ROOT, 'bench-results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `billing-${result.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(result, null, 2));
writeFileSync(path.join(dir, 'billing-latest.json'), JSON.stringify(result, null, 2));
console.log(`written to ${file}`);
process.exit(0);
