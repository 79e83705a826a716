// pnpm bench:auth — the in-process cost of the ingress's admission step: authenticate the key (in-process cache,
// warm) + rate limits + budget reservation (one Lua script over real Redis), with 100,000 keys in a fresh Postgres
// database. Needs a build (bin/gateway setup) and the local Postgres and Redis. Interleaves nothing (there is no
// "direct" side): it reports the distribution of the step itself, and a bare Redis PING round trip as the floor.
// Writes bench-results/auth-<time>.json.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INGRESS = path.join(ROOT, 'apps/ingress');
const req = createRequire(path.join(INGRESS, 'package.json'));
const load = (spec) => import(pathToFileURL(req.resolve(spec)).href);
const dist = (p) => import(pathToFileURL(path.join(INGRESS, 'dist', p)).href);

const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const HOT_KEYS = 200; // keys in use during a round (all warm in the in-process cache)
const ROUNDS = 20;
const PER_ROUND = 1_000;
const ADMIN_URL = process.env.POSTGRES_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function q(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50Ms: q(s, 50), p90Ms: q(s, 90), p99Ms: q(s, 99), maxMs: s[s.length - 1] };
}

async function main() {
  await import('reflect-metadata').catch(() => load('reflect-metadata'));
  const { ensureDatabase, dropDatabase, migrate, createPrismaClient } = await load('@gw/db');
  const { Redis } = await load('ioredis');
  const { Budgets } = await load('@gw/budgets');
  const { default: pg } = await load('pg');
  const { AuthService } = await dist('auth/auth.service.js');
  const { KeysRepository } = await dist('auth/keys.repository.js');
  const { LimitsService } = await dist('limits/limits.service.js');
  const { MetricsService } = await dist('metrics/metrics.service.js');
  const { loadEnv } = await dist('config/env.js');

  const dbName = `gw_bench_auth_${randomBytes(4).toString('hex')}`;
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const prefix = `gwbench${randomBytes(4).toString('hex')}`;
  await ensureDatabase(ADMIN_URL, dbName);
  const redis = new Redis(REDIS_URL, { enableAutoPipelining: false });
  // the floor on a connection of its own: on the limits connection a PING would queue behind the admissions taken
  // ahead in the background
  const pingRedis = new Redis(REDIS_URL, { enableAutoPipelining: false });
  let prisma;
  try {
    await migrate(url);
    console.log(`seeding ${KEYS} keys…`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `INSERT INTO identity.teams (id, name, rpm, tpm, budget_nano_usd, budget_period) VALUES ('team_bench', 'bench', 1000000000, 1000000000, 9000000000000000, 'monthly')`,
    );
    await client.query(
      `INSERT INTO identity.api_keys (id, team_id, name, key_hash, key_prefix, rpm, tpm, budget_nano_usd, budget_period)
       SELECT 'key_' || i, 'team_bench', 'k' || i, encode(sha256(convert_to('sk-gw-bench-' || i, 'UTF8')), 'hex'), 'sk-gw-bench', 1000000000, 1000000000, 9000000000000000, 'daily'
         FROM generate_series(1, $1) AS i`,
      [KEYS],
    );
    await client.query('ANALYZE');
    await client.end();

    prisma = createPrismaClient(url, 4);
    // the ingress's own defaults (key cache 1 s, admissions taken ahead: ADR 0019); BENCH_ADMISSION_PREFETCH=0 measures
    // every request admitting itself
    const env = loadEnv({
      GATEWAY_MASTER_KEY: 'bench-master-key-0000',
      ...(process.env.BENCH_ADMISSION_PREFETCH && { ADMISSION_PREFETCH: process.env.BENCH_ADMISSION_PREFETCH }),
      ...(process.env.BENCH_ADMISSION_PREFETCH_TTL_MS && { ADMISSION_PREFETCH_TTL_MS: process.env.BENCH_ADMISSION_PREFETCH_TTL_MS }),
    });
    const noBroadcast = { emit() {} }; // invalidation broadcasts are not part of the measured step
    // counts the database reads of keys while measuring, so that a "warm cache" figure cannot hide cold lookups: the
    // cache keeps a key ≤ KEY_CACHE_TTL_MS and reads a key in use again in the background before that (refresh
    // ahead); a read that a step waits for shows in the step's time
    const repo = new KeysRepository(prisma);
    const findByHash = repo.findByHash.bind(repo);
    let measuring = false;
    let keyReadsWhileMeasuring = 0;
    repo.findByHash = (hash) => {
      if (measuring) keyReadsWhileMeasuring++;
      return findByHash(hash);
    };
    const auth = new AuthService(repo, noBroadcast, env);
    // and the steps that waited for such a read (a miss or an expired entry: the key cache answered with a promise)
    let stepsWaitingForKeyRead = 0;
    const keyCache = auth.cache; // private in TypeScript; read here only to count
    const cacheGet = keyCache.get.bind(keyCache);
    keyCache.get = (key, load) => {
      const r = cacheGet(key, load);
      if (measuring && r instanceof Promise) stepsWaitingForKeyRead++;
      return r;
    };
    const budgets = new Budgets(redis, { prefix, holdTtlMs: 300_000 });
    const settings = {
      models: [
        {
          name: 'bench-model',
          targets: [{ provider: 'p', model: 'm', price: { inputPerMTok: 0.15, outputPerMTok: 0.6 } }],
        },
      ],
    };
    const limits = new LimitsService(budgets, env, settings, new MetricsService());

    const load1AtStart = os.loadavg()[0];
    const pick = () => 1 + Math.floor(Math.random() * KEYS);
    let seq = 0;
    let prefetchedWhileMeasuring = 0;
    const step = async (n) => {
      const identity = await auth.authenticate({ authorization: `Bearer sk-gw-bench-${n}` });
      const admission = await limits.admit({
        requestId: `bench-${++seq}`,
        identity,
        model: 'bench-model',
        bodyBytes: 300,
        maxOutputTokens: 100,
        inputImages: 0,
      });
      if (measuring && admission.admissionId?.startsWith('slot-')) prefetchedWhileMeasuring++;
    };
    // warm-up: JIT, script load, connections
    for (let i = 0; i < 2_000; i++) await step(pick());

    // Redis's own time per EVALSHA while measuring (INFO commandstats; every EVALSHA on this Redis counts, so it is
    // this step's only on a quiet machine): what the script costs, apart from the round trip and the client
    const evalshaStats = async () => {
      const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
      return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
    };
    const evalshaBefore = await evalshaStats();
    const warm = [];
    const ping = [];
    const authOnly = [];
    const limitsOnly = [];
    for (let r = 0; r < ROUNDS; r++) {
      const hot = Array.from({ length: HOT_KEYS }, pick);
      for (const n of hot) await auth.authenticate({ authorization: `Bearer sk-gw-bench-${n}` }); // fill the cache
      // warm admissions too: a key in steady use has admissions taken ahead (ADR 0019); its first request admits itself
      if (env.ADMISSION_PREFETCH > 0) {
        for (const n of hot) await step(n);
        while (limits.pool.stats().inflight > 0) await new Promise((r) => setTimeout(r, 5));
      }
      measuring = true;
      for (let i = 0; i < PER_ROUND; i++) {
        const n = hot[i % HOT_KEYS];
        let t = performance.now();
        await step(n);
        warm.push(performance.now() - t);
        if (i % 4 === 0) {
          t = performance.now();
          await pingRedis.ping();
          ping.push(performance.now() - t);
          t = performance.now();
          const identity = await auth.authenticate({ authorization: `Bearer sk-gw-bench-${n}` });
          authOnly.push(performance.now() - t);
          t = performance.now();
          await limits.admit({
            requestId: `bench-l-${++seq}`,
            identity,
            model: 'bench-model',
            bodyBytes: 300,
            maxOutputTokens: 100,
            inputImages: 0,
          });
          limitsOnly.push(performance.now() - t);
        }
      }
      measuring = false;
    }
    const evalshaAfter = await evalshaStats();
    const redisUsPerEvalsha =
      evalshaAfter.calls > evalshaBefore.calls
        ? (evalshaAfter.usec - evalshaBefore.usec) / (evalshaAfter.calls - evalshaBefore.calls)
        : null;
    const result = {
      at: new Date().toISOString(),
      commit: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
      node: process.version,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load1AtStart, load1: os.loadavg()[0] },
      keysInDb: KEYS,
      keyReadsWhileMeasuring,
      stepsWaitingForKeyRead,
      step: 'authenticate (warm in-process cache) + rate limits (key, team: rpm, tpm) + budget reservation (key, team): one EVALSHA, or an admission taken ahead (ADR 0019)',
      admission: stats(warm),
      authOnlyWarm: stats(authOnly),
      limitsOnly: stats(limitsOnly),
      redisPingFloor: stats(ping),
      redisUsPerEvalsha,
      admissionPrefetch: env.ADMISSION_PREFETCH,
      stepsServedByAdmissionsTakenAhead: prefetchedWhileMeasuring,
    };
    await limits.onModuleDestroy(); // gives the admissions taken ahead back
    console.log(JSON.stringify(result, null, 2));
    const dir = path.join(ROOT, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `auth-${result.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(
      `\nadmission p50 ${result.admission.p50Ms.toFixed(3)} ms, p99 ${result.admission.p99Ms.toFixed(3)} ms (Redis PING p50 ${result.redisPingFloor.p50Ms.toFixed(3)}, p99 ${result.redisPingFloor.p99Ms.toFixed(3)} ms; Redis time per ADMIT ${redisUsPerEvalsha?.toFixed(1) ?? '?'} µs; steps served by admissions taken ahead: ${prefetchedWhileMeasuring} of ${warm.length} (ADMISSION_PREFETCH=${env.ADMISSION_PREFETCH}); key reads from the database while measuring: ${keyReadsWhileMeasuring}, waited for: ${stepsWaitingForKeyRead}; load ${load1AtStart.toFixed(2)} → ${result.machine.load1.toFixed(2)}); written to ${file}`,
    );
  } finally {
    await prisma?.$disconnect();
    const keys = await redis.keys(`${prefix}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
    pingRedis.disconnect();
    await dropDatabase(ADMIN_URL, dbName);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
