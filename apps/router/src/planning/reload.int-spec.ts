import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { contracts, type EventContract, type TargetOutcomeEvent } from '@gw/contracts';
import { connectNats, HotClient, HotServer } from '@gw/transport';
import { OutcomeHandler } from '../health/outcome.handler.js';
import { CatalogueService } from './catalogue.service.js';
import type { RouterEnv } from '../config/env.js';

/**
 * Two router replicas (CatalogueService each, on their own NATS connections) against the real NATS: config reload
 * by file watch and by the broadcast reload event, and the circuit breaker shared through broadcast outcome events.
 * The events go over subjects private to this run (the contracts' schemas, other subjects) so that no other
 * process on the shared NATS hears them.
 */
const NATS_URL = 'nats://127.0.0.1:4222';
const RUN = `rtreload-${process.pid}-${Date.now().toString(36)}`;
const OUTCOME = {
  ...contracts.routingOutcomes,
  subject: `test.${RUN}.outcome`,
} as unknown as typeof contracts.routingOutcomes & EventContract;
const RELOAD = {
  ...contracts.routingConfigReload,
  subject: `test.${RUN}.reload`,
} as unknown as typeof contracts.routingConfigReload & EventContract;

const yaml = (models: string[], extra = '') => `
providers:
  - id: p
    type: openai-compatible
    baseUrl: http://127.0.0.1:9/v1
models:
${models.map((m) => `  - name: ${m}\n    targets:\n      - { provider: p, model: ${m}-up }\n      - { provider: p, model: ${m}-spare }`).join('\n')}
routing:
  breaker: { consecutiveFailures: 2, openMs: 60000 }
${extra}`;

let dir: string;
let file: string;
const conns: NatsConnection[] = [];
const servers: HotServer[] = [];
const replicas: CatalogueService[] = [];
let publisher: HotClient;

async function replica(): Promise<CatalogueService> {
  const env: RouterEnv = { NATS_URL, GATEWAY_CONFIG: file, LOG_LEVEL: 'error', CONFIG_WATCH: true };
  const svc = new CatalogueService(env);
  const nc = await connectNats(NATS_URL, `${RUN}-${replicas.length}`);
  const server = new HotServer(nc);
  const outcomes = new OutcomeHandler(svc);
  server.serveEvent(OUTCOME, (batch) => outcomes.outcomes(batch));
  server.serveEvent(RELOAD, (e) => void svc.reload(e));
  await nc.flush();
  conns.push(nc);
  servers.push(server);
  replicas.push(svc);
  return svc;
}

const names = (s: CatalogueService) => s.catalogue.list(null).map((m) => m.id);

async function eventually(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), `${RUN}-`));
  file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, yaml(['alpha']));
  await replica();
  await replica();
  const nc = await connectNats(NATS_URL, `${RUN}-publisher`);
  conns.push(nc);
  publisher = new HotClient(nc);
});

afterAll(async () => {
  for (const r of replicas) r.onModuleDestroy();
  for (const s of servers) await s.close();
  for (const c of conns) await c.drain().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('router replicas: config reload and shared health', () => {
  it('a changed config file is picked up by every replica; a bad one is refused and the old one stays', async () => {
    expect(replicas.map(names)).toEqual([['alpha'], ['alpha']]);
    writeFileSync(file, yaml(['alpha', 'beta']));
    expect(await eventually(() => replicas.every((r) => names(r).includes('beta')), 5_000)).toBe(true);
    writeFileSync(file, `${yaml(['gamma'])}  retry: { maxRetries: -3 }\n`);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(replicas.map(names)).toEqual([
      ['alpha', 'beta'],
      ['alpha', 'beta'],
    ]);
  });

  it('the reload event: every replica takes a pushed config, or re-reads its file', async () => {
    publisher.emit(RELOAD, { yaml: yaml(['delta']), by: 'test' });
    expect(await eventually(() => replicas.every((r) => names(r).join() === 'delta'), 3_000)).toBe(true);
    publisher.emit(RELOAD, { yaml: 'models: [ {name: 1} ]', by: 'test' });
    await new Promise((r) => setTimeout(r, 300));
    expect(replicas.map(names)).toEqual([['delta'], ['delta']]);
    writeFileSync(file, yaml(['epsilon']));
    publisher.emit(RELOAD, { by: 'test' });
    expect(await eventually(() => replicas.every((r) => names(r).join() === 'epsilon'), 3_000)).toBe(true);
  });

  it('outcomes from one executor open the circuit on every replica within 1 s; each plans around it', async () => {
    const plan = (r: CatalogueService) =>
      r.planner
        .plan({
          requestId: 'x',
          model: 'epsilon',
          stream: false,
          teamId: null,
          keyId: null,
          tags: {},
          region: null,
          strategy: null,
          body: new Uint8Array(),
        })
        .plan.targets.map((t) => t.model);
    expect(replicas.map(plan)).toEqual([
      ['epsilon-up', 'epsilon-spare'],
      ['epsilon-up', 'epsilon-spare'],
    ]);
    const fail: TargetOutcomeEvent = {
      target: 'p/epsilon-up',
      requestId: 'r',
      result: 'failed',
      error: 'PROVIDER_ERROR',
      latencyMs: 3,
      final: false,
      at: Date.now(),
    };
    const t0 = Date.now();
    publisher.emit(OUTCOME, { outcomes: [fail] });
    publisher.emit(OUTCOME, { outcomes: [fail] });
    expect(
      await eventually(() => replicas.every((r) => r.health.state('p/epsilon-up') === 'open'), 1_000),
    ).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(replicas.map(plan)).toEqual([['epsilon-spare'], ['epsilon-spare']]);
  });
});
