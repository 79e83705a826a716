// "dead primary": a model whose first target fails every call (simulator: 500 always) and whose circuit is open,
// against a model with only the healthy target, both through the gateway, interleaved (healthy, dead-primary, ...),
// at concurrency 1. The figure is the added p99 of the dead-primary model over the healthy one (median of rounds).
import { Pool } from 'undici';

export const DEAD_PRIMARY_CONFIG = `
  - name: bench-dual
    targets:
      - provider: sim-dead
        model: dead-primary
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
      - provider: sim
        model: bench-model
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }
`;
export const DEAD_PROVIDER = `
  - id: sim-dead
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 10000
`;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

let seq = 0;
const body = (model) =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content: `dead primary ${seq++} ${Math.random().toString(36)}` }],
    max_tokens: 16,
  });

async function one(pool, headers, model) {
  const t0 = process.hrtime.bigint();
  const res = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers,
    body: body(model),
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, route: res.headers['x-gateway-route'] };
}

export async function deadPrimaryBench(stack, key, { rounds = 10, perRound = 200 } = {}) {
  stack.simulator.setFaults([{ match: { model: 'dead-primary' }, fault: { kind: 'status', status: 500 } }]);
  const pool = new Pool(stack.ingressUrl, { connections: 1, pipelining: 1 });
  const headers = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    'x-gateway-cache': 'no-cache',
  };
  // open the circuit (every router replica hears the executors' outcomes), then warm both paths
  let opened = false;
  for (let i = 0; i < 500 && !opened; i++)
    opened = String((await one(pool, headers, 'bench-dual')).route).endsWith('dead-primary:skipped');
  if (!opened) throw new Error('dead primary: the circuit did not open');
  for (let i = 0; i < 300; i++) {
    await one(pool, headers, 'bench-model');
    await one(pool, headers, 'bench-dual');
  }
  const deadCallsBefore = stack.simulator.stats().requestsByModel['dead-primary'] ?? 0;
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const h = [];
    const d = [];
    for (let i = 0; i < perRound; i++) {
      h.push((await one(pool, headers, 'bench-model')).ms);
      d.push((await one(pool, headers, 'bench-dual')).ms);
    }
    h.sort((a, b) => a - b);
    d.sort((a, b) => a - b);
    out.push({
      healthyP50: quantile(h, 0.5),
      deadP50: quantile(d, 0.5),
      healthyP99: quantile(h, 0.99),
      deadP99: quantile(d, 0.99),
    });
  }
  await pool.close();
  stack.simulator.clearFaults();
  const addedP99 = out.map((r) => r.deadP99 - r.healthyP99);
  const addedP50 = out.map((r) => r.deadP50 - r.healthyP50);
  return {
    rounds,
    perRound,
    healthyP50Ms: median(out.map((r) => r.healthyP50)),
    deadPrimaryP50Ms: median(out.map((r) => r.deadP50)),
    healthyP99Ms: median(out.map((r) => r.healthyP99)),
    deadPrimaryP99Ms: median(out.map((r) => r.deadP99)),
    addedP50Ms: median(addedP50),
    addedP99Ms: median(addedP99),
    addedP99MinMs: Math.min(...addedP99),
    addedP99MaxMs: Math.max(...addedP99),
    deadTargetCallsDuringMeasure:
      (stack.simulator.stats().requestsByModel['dead-primary'] ?? 0) - deadCallsBefore,
  };
}
