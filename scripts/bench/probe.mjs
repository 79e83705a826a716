#!/usr/bin/env node
// A quick look at where the time of one request goes: sequential requests through the gateway, with the
// x-gateway-overhead-ms header (gateway time, upstream excluded) next to the client-side round trip.
import { Pool } from 'undici';
import { startStack } from '../../packages/testing/dist/index.js';

const N = Number(process.argv[2] ?? 300);
const stack = await startStack({
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
try {
  const { key } = await stack.createKey();
  const gw = new Pool(stack.ingressUrl, { connections: 1 });
  const direct = new Pool(stack.simulator.url, { connections: 1 });
  const rt = [];
  const oh = [];
  const d = [];
  for (let i = 0; i < N; i++) {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `probe ${i} ${Math.random().toString(36)}` }], max_tokens: 16 });
    let t0 = performance.now();
    const r = await gw.request({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    await r.body.text();
    rt.push(performance.now() - t0);
    oh.push(Number(r.headers['x-gateway-overhead-ms']));
    t0 = performance.now();
    const r2 = await direct.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body });
    await r2.body.text();
    d.push(performance.now() - t0);
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(JSON.stringify({ gatewayP50: med(rt), directP50: med(d), overheadHeaderP50: med(oh) }));
  await gw.close();
  await direct.close();
} finally {
  await stack.close();
}
