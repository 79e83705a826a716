#!/usr/bin/env node
// A quick look at where the time of one request goes: sequential requests through the gateway, with the
// x-gateway-overhead-ms header (gateway time, upstream excluded) next to the client-side round trip, for each
// cache mode in turn (default, no-store, no-cache), interleaved with the same request straight to the simulator.
// Usage: node scripts/bench/probe.mjs [requests per mode, default 1000] [modes, default default,no-store,no-cache]
// A mode `stop:<service>` stops that service of the stack (e.g. stop:billing) and runs the default mode without it.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startStack } from '../../packages/testing/dist/index.js';

const N = Number(process.argv[2] ?? 1000);
const MODES = (process.argv[3] ?? 'default,no-store,no-cache').split(',');
const stack = await startStack({
  env: JSON.parse(process.env['PROBE_ENV'] ?? '{}'),
  configYaml: `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
models:
  - name: m
    targets: [{ provider: sim, model: m }]
`,
});
// CPU ticks of each of our processes, plus Postgres and Redis (all their processes), to see who pays per request
function cpuTicks() {
  const pids = { ...stack.processes.pids(), bench: process.pid };
  const byName = {};
  const add = (name, pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      byName[name] = (byName[name] ?? 0) + Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  };
  for (const [name, pid] of Object.entries(pids)) add(name, pid);
  for (const [name, exe] of [['postgres', 'postgres'], ['redis', 'redis-server']]) {
    let out = '';
    try {
      out = execSync(`pgrep -x ${exe}`, { encoding: 'utf8' });
    } catch {
      /* none */
    }
    for (const pid of out.split('\n').filter(Boolean)) add(name, pid);
  }
  return byName;
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const { key } = await stack.createKey();
  const gw = new Pool(stack.ingressUrl, { connections: 1 });
  const direct = new Pool(stack.simulator.url, { connections: 1 });
  for (const mode of ['default', ...MODES]) {
    const rt = [];
    const oh = [];
    const d = [];
    if (mode.startsWith('stop:')) await stack.stop(mode.slice(5));
    const cacheMode = mode === 'default' || mode.startsWith('stop:') ? null : mode;
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(cacheMode ? { 'x-gateway-cache': cacheMode } : {}) };
    const c0 = cpuTicks();
    for (let i = 0; i < N; i++) {
      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `probe ${i} ${Math.random().toString(36)}` }], max_tokens: 16 });
      let t0 = performance.now();
      const r = await gw.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
      await r.body.text();
      rt.push(performance.now() - t0);
      oh.push(Number(r.headers['x-gateway-overhead-ms']));
      t0 = performance.now();
      const r2 = await direct.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body });
      await r2.body.text();
      d.push(performance.now() - t0);
    }
    const c1 = cpuTicks();
    // CPU milliseconds per request (the direct request included in "bench"; ticks are 10 ms)
    const cpuMsPerRequest = Object.fromEntries(Object.keys(c1).map((k) => [k, Number((((c1[k] - (c0[k] ?? 0)) * 10) / N).toFixed(3))]));
    console.log(JSON.stringify({ mode, gatewayP50: med(rt).toFixed(3), directP50: med(d).toFixed(3), addedP50: (med(rt) - med(d)).toFixed(3), overheadHeaderP50: med(oh), cpuMsPerRequest }));
  }
  await gw.close();
  await direct.close();
} finally {
  await stack.close();
}
