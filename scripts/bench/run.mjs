#!/usr/bin/env node
// pnpm bench: added latency and throughput of the whole gateway against the provider simulator, measured
// the way ../shared/docs/benchmarking.md asks: gateway vs the same upstream directly, same client, same body,
// interleaved rounds, median of round medians; fixed concurrency 64 for throughput; RSS of every service.
// Needs a build (bin/gateway setup). Writes bench-results/<time>.json and bench-results/latest.json.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { startStack } from '../../packages/testing/dist/index.js';
import { streamTranslationBench } from './stream-translation.mjs';
import { DEAD_PRIMARY_CONFIG, DEAD_PROVIDER, deadPrimaryBench } from './dead-primary.mjs';
import { planningBench } from './planning.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const ROUNDS = Number(args.get('rounds') ?? 10);
const PER_ROUND = Number(args.get('per-round') ?? 200);
const DURATION_S = Number(args.get('duration') ?? 10);
const CONCURRENCY = Number(args.get('concurrency') ?? 64);
// interleaved pairs before the measured rounds: every service's JIT keeps improving for the first few thousand
// requests (probe.mjs: 3.4 → 2.6 → 2.3 → 2.1 ms added over successive blocks of 1,500), and a gateway in service is
// warm. The first 300 pairs are also reported on their own ("cold") so the warm-up is visible, not hidden.
const WARMUP = Number(args.get('warmup') ?? 4000);
/** seconds of load at the throughput concurrency before the measured run (not counted) */
const THROUGHPUT_WARMUP_S = Number(args.get('throughput-warmup') ?? 5);
const COLD = 300;
// --only=latency,throughput,streams,dead-primary,planning (default: all)
const ONLY = new Set((args.get('only') ?? 'latency,throughput,streams,dead-primary,planning').split(','));

const CONFIG = `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 10000
${DEAD_PROVIDER}
models:
  - name: bench-model
    targets:
      - provider: sim
        model: bench-model
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
${DEAD_PRIMARY_CONFIG}
routing:
  breaker: { consecutiveFailures: 5, openMs: 600000 }
`;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}
function rssAll(stack) {
  const out = {};
  for (const [name, pid] of Object.entries(stack.processes.pids())) out[name] = rssMb(pid);
  return out;
}
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100;
}

let seq = 0;
const body = () => JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: `bench request ${seq++} ${Math.random().toString(36)}` }], max_tokens: 16 });

async function timeOne(pool, pathName, headers) {
  const t0 = process.hrtime.bigint();
  const res = await pool.request({ method: 'POST', path: pathName, headers, body: body() });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function latencyAtConcurrency1(stack, key) {
  const direct = new Pool(stack.simulator.url, { connections: 1, pipelining: 1 });
  const gateway = new Pool(stack.ingressUrl, { connections: 1, pipelining: 1 });
  const gwHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const dHeaders = { 'content-type': 'application/json' };
  // warm up both paths; the first COLD pairs are kept as the cold figure
  const coldD = [];
  const coldG = [];
  for (let i = 0; i < Math.max(WARMUP, COLD); i++) {
    const d = await timeOne(direct, '/v1/chat/completions', dHeaders);
    const g = await timeOne(gateway, '/v1/chat/completions', gwHeaders);
    if (i < COLD) {
      coldD.push(d);
      coldG.push(g);
    }
  }
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const d = [];
    const g = [];
    for (let i = 0; i < PER_ROUND; i++) {
      d.push(await timeOne(direct, '/v1/chat/completions', dHeaders));
      g.push(await timeOne(gateway, '/v1/chat/completions', gwHeaders));
    }
    d.sort((a, b) => a - b);
    g.sort((a, b) => a - b);
    rounds.push({
      directP50: quantile(d, 0.5),
      gatewayP50: quantile(g, 0.5),
      addedP50: quantile(g, 0.5) - quantile(d, 0.5),
      addedP99: quantile(g, 0.99) - quantile(d, 0.99),
    });
  }
  await direct.close();
  await gateway.close();
  const added50 = rounds.map((r) => r.addedP50);
  const added99 = rounds.map((r) => r.addedP99);
  return {
    warmupPairs: Math.max(WARMUP, COLD),
    coldAddedP50Ms: median(coldG) - median(coldD),
    rounds: ROUNDS,
    perRound: PER_ROUND,
    directP50Ms: median(rounds.map((r) => r.directP50)),
    gatewayP50Ms: median(rounds.map((r) => r.gatewayP50)),
    addedP50Ms: median(added50),
    addedP50MinMs: Math.min(...added50),
    addedP50MaxMs: Math.max(...added50),
    addedP99Ms: median(added99),
    addedP99MinMs: Math.min(...added99),
    addedP99MaxMs: Math.max(...added99),
  };
}

function cannon(url, headers, durationS = DURATION_S) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/v1/chat/completions`,
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        connections: CONCURRENCY,
        duration: durationS,
        setupClient: (client) => client.setBody(body()),
        requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function throughput(stack, key) {
  const direct = await cannon(stack.simulator.url, {});
  // warm-up at the same concurrency, not counted (without it a fresh stack runs at ~60 % of its rate: every
  // service's JIT and heap are still growing; after the latency phase the services are warm already)
  if (THROUGHPUT_WARMUP_S > 0) await cannon(stack.ingressUrl, { authorization: `Bearer ${key}` }, THROUGHPUT_WARMUP_S);
  const pids = Object.values(stack.processes.pids());
  const cpu0 = cpuSeconds(pids);
  let peak = {};
  const sampler = setInterval(() => {
    const now = rssAll(stack);
    for (const [k, v] of Object.entries(now)) peak[k] = Math.max(peak[k] ?? 0, v ?? 0);
  }, 500);
  const gw = await cannon(stack.ingressUrl, { authorization: `Bearer ${key}` });
  clearInterval(sampler);
  const cpu = cpuSeconds(pids) - cpu0;
  return {
    concurrency: CONCURRENCY,
    durationS: DURATION_S,
    warmupS: THROUGHPUT_WARMUP_S,
    direct: { rps: direct.requests.average, non2xx: direct.non2xx, errors: direct.errors },
    gateway: {
      rps: gw.requests.average,
      total: gw.requests.total,
      non2xx: gw.non2xx,
      errors: gw.errors,
      timeouts: gw.timeouts,
      latencyP50Ms: gw.latency.p50,
      latencyP99Ms: gw.latency.p99,
      cpuSecondsPer1000: gw.requests.total ? Math.round((cpu / gw.requests.total) * 1000 * 1000) / 1000 : null,
    },
    rssPeakMb: peak,
  };
}

function commit() {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  } catch {
    return null;
  }
}

const stack = await startStack({ configYaml: CONFIG, env: { LOG_LEVEL: 'warn' } });
try {
  const { key } = await stack.createKey();
  const result = {
    at: new Date().toISOString(),
    commit: commit(),
    node: process.version,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30) },
    rssIdleMb: rssAll(stack),
  };
  if (ONLY.has('latency')) {
    console.log('latency at concurrency 1 (interleaved, gateway − direct)…');
    result.latencyC1 = await latencyAtConcurrency1(stack, key);
    console.log(result.latencyC1);
  }
  if (ONLY.has('throughput')) {
    console.log(`throughput at concurrency ${CONCURRENCY}…`);
    result.throughput = await throughput(stack, key);
    console.log(result.throughput);
    await new Promise((r) => setTimeout(r, 2000));
  }
  result.rssAfterMb = rssAll(stack);
  if (ONLY.has('streams')) {
    result.streamTranslation = await streamTranslationBench();
    console.log('stream translation per chunk', result.streamTranslation);
  }
  if (ONLY.has('dead-primary')) {
    console.log('dead primary (circuit open) vs healthy, interleaved, concurrency 1…');
    result.deadPrimary = await deadPrimaryBench(stack, key, { rounds: ROUNDS, perRound: PER_ROUND });
    console.log(result.deadPrimary);
  }
  if (ONLY.has('planning')) {
    result.planning = planningBench();
    console.log('planning', JSON.stringify(result.planning.perStrategy));
  }
  const dir = path.join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(result, null, 2));
  if (result.latencyC1) {
    const l = result.latencyC1;
    console.log(`\nadded latency p50 ${l.addedP50Ms.toFixed(3)} ms (min ${l.addedP50MinMs.toFixed(3)}, max ${l.addedP50MaxMs.toFixed(3)}), p99 ${l.addedP99Ms.toFixed(3)} ms at concurrency 1, after ${l.warmupPairs} warm-up pairs (cold, first ${COLD} pairs: p50 ${l.coldAddedP50Ms.toFixed(3)} ms)`);
  }
  if (result.throughput) {
    console.log(`gateway ${result.throughput.gateway.rps} req/s at concurrency ${CONCURRENCY} (${result.throughput.gateway.non2xx} non-2xx, ${result.throughput.gateway.errors} errors); simulator direct ${result.throughput.direct.rps} req/s`);
    console.log(`RSS MB idle ${JSON.stringify(result.rssIdleMb)}\nRSS MB peak ${JSON.stringify(result.throughput.rssPeakMb)}\nRSS MB after ${JSON.stringify(result.rssAfterMb)}`);
  }
  if (result.deadPrimary) {
    const d = result.deadPrimary;
    console.log(`dead primary (circuit open): added p99 ${d.addedP99Ms.toFixed(3)} ms over the healthy case (min ${d.addedP99MinMs.toFixed(3)}, max ${d.addedP99MaxMs.toFixed(3)}; target ≤ 5 ms), p50 ${d.addedP50Ms.toFixed(3)} ms; ${d.deadTargetCallsDuringMeasure} calls reached the dead target while measuring`);
  }
  if (result.planning) {
    const worst = Math.max(...Object.values(result.planning.perStrategy).map((s) => s.medianUs));
    console.log(`planning: ${result.planning.models} models × ${result.planning.targetsPerModel} targets, worst strategy median ${worst} µs per plan (target ≤ 50 µs)`);
  }
  console.log(`written to ${file}`);
} finally {
  await stack.close();
}
