#!/usr/bin/env node
// Where the CPU of a request goes, service by service: a fixed number of requests through the gateway (the
// same stack and body as `pnpm bench`), and the CPU time each process spent on them (from /proc, so it counts
// work rather than wall time, which the shared machine makes noisy). With --prof, every service also runs
// under --cpu-prof and the heaviest functions and packages of each are printed.
//
//   node scripts/bench/profile.mjs [--requests=4000] [--concurrency=64] [--prof] [--top=15]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startStack } from '../../packages/testing/dist/index.js';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const REQUESTS = Number(args.get('requests') ?? 4000);
const CONCURRENCY = Number(args.get('concurrency') ?? 64);
const TOP = Number(args.get('top') ?? 15);
const PROF = args.has('prof');

const CONFIG = `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 10000
models:
  - name: bench-model
    targets:
      - provider: sim
        model: bench-model
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
`;

let seq = 0;
const body = () => JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: `bench request ${seq++} ${Math.random().toString(36)}` }], max_tokens: 16 });

function ticksOf(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function load(url, key, amount) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/v1/chat/completions`,
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        connections: CONCURRENCY,
        amount,
        setupClient: (client) => client.setBody(body()),
        requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** Self time per function and per package from a .cpuprofile. */
function summarise(file, fromUs, toUs) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // sample times are CLOCK_MONOTONIC µs, like process.hrtime here: keep the measured window only (no boot)
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const fns = new Map();
  const pkgs = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const short = url.replace(/^file:\/\//, '').replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(/.*\/(apps|packages)\//, '$1/');
    const fk = `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
    fns.set(fk, (fns.get(fk) ?? 0) + us);
    const pk = /node_modules/.test(url) ? (/node_modules\/\.pnpm\/[^/]+\/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? 'node_modules') : /\/(apps|packages)\/([^/]+)/.test(url) ? `${/\/(apps|packages)\/([^/]+)/.exec(url)[1]}/${/\/(apps|packages)\/([^/]+)/.exec(url)[2]}` : url.startsWith('node:') ? 'node:internal' : functionName.startsWith('(') ? functionName : 'other';
    pkgs.set(pk, (pkgs.get(pk) ?? 0) + us);
  }
  const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  return { total, fns: top(fns), pkgs: top(pkgs) };
}

const profDir = PROF ? mkdtempSync(path.join(tmpdir(), 'gw-prof-')) : null;
if (profDir) process.env['STACK_NODE_ARGS'] = `--cpu-prof --cpu-prof-dir=${profDir}`;
const stack = await startStack({ configYaml: CONFIG, env: { LOG_LEVEL: 'warn' } });
let pids;
const windowUs = [0, 0];
try {
  const { key } = await stack.createKey();
  await load(stack.ingressUrl, key, 1000); // warm up
  pids = stack.processes.pids();
  const before = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, ticksOf(p)]));
  const selfBefore = process.cpuUsage();
  windowUs[0] = Number(process.hrtime.bigint() / 1000n);
  const r = await load(stack.ingressUrl, key, REQUESTS);
  windowUs[1] = Number(process.hrtime.bigint() / 1000n);
  const selfCpu = process.cpuUsage(selfBefore);
  const perReq = {};
  let sum = 0;
  for (const [n, p] of Object.entries(pids)) {
    const ms = ((ticksOf(p) - before[n]) * 10) / REQUESTS;
    perReq[n] = Math.round(ms * 1000) / 1000;
    sum += ms;
  }
  console.log(JSON.stringify({ requests: r.requests.total, non2xx: r.non2xx, errors: r.errors, rps: r.requests.average, concurrency: CONCURRENCY }));
  console.log(`CPU ms per request (our processes ${sum.toFixed(3)}; load generator + simulator ${((selfCpu.user + selfCpu.system) / 1000 / REQUESTS).toFixed(3)})`);
  console.log(JSON.stringify(perReq));
} finally {
  await stack.close();
}

if (profDir) {
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  const nameOf = new Map(Object.entries(pids ?? {}).map(([n, p]) => [String(p), n]));
  for (const f of files) {
    const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f)?.[1] ?? /CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1];
    const name = nameOf.get(pid ?? '') ?? f;
    const s = summarise(path.join(profDir, f), windowUs[0], windowUs[1]);
    console.log(`\n== ${name}: ${(s.total / 1000).toFixed(0)} ms sampled in the measured window, ${((s.total / REQUESTS)).toFixed(0)} µs per request`);
    for (const [k, us] of s.pkgs) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
    console.log('  --');
    for (const [k, us] of s.fns) console.log(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
  }
  if (!args.has('keep')) rmSync(profDir, { recursive: true, force: true });
  else console.log(`profiles kept in ${profDir}`);
}
