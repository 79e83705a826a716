#!/usr/bin/env node
// Planning cost of the router: a catalogue of 1,000 models × 5 targets (three providers, regions, context windows on
// some), planned for random models the way routing.rpc.chat.v1 does per request: read gw-meta, plan (policy filter,
// strategy order, breaker, hedge), serialise the plan. Reported per strategy: median over rounds of µs per plan.
// Needs a build (apps/router/dist). `node scripts/bench/planning.mjs` alone, or part of `pnpm bench`.
import { performance } from 'node:perf_hooks';
import { validateConfig } from '../../packages/config/dist/index.js';
import { Catalogue } from '../../apps/router/dist/planning/catalogue.js';
import { Planner } from '../../apps/router/dist/planning/planner.js';
import { HealthBoard } from '../../apps/router/dist/health/health-board.js';

const MODELS = 1_000;
const TARGETS = 5;
const PROVIDERS = ['oa', 'an', 'eu'];

function config() {
  const models = [];
  for (let m = 0; m < MODELS; m++) {
    const targets = [];
    for (let t = 0; t < TARGETS; t++) {
      const provider = PROVIDERS[(m + t) % PROVIDERS.length];
      targets.push({
        provider,
        model: `model-${m}-${t}`,
        price: { inputPerMTok: 0.1 * (t + 1), outputPerMTok: 0.4 * (t + 1) },
        weight: t + 1,
        region: provider === 'eu' ? 'eu' : 'us',
        // one model in ten has context windows: its body is read and, when large, counted
        ...(m % 10 === 0 ? { contextWindow: 128_000 } : {}),
      });
    }
    models.push({ name: `m${m}`, targets });
  }
  return validateConfig(
    {
      providers: [
        { id: 'oa', type: 'openai', apiKey: 'k' },
        { id: 'an', type: 'anthropic', apiKey: 'k' },
        { id: 'eu', type: 'openai-compatible', baseUrl: 'http://eu.example/v1' },
      ],
      models,
      routing: { policies: [{ name: 'eu-only', when: { team: 'team-eu' }, allow: { regions: ['eu'] } }] },
    },
    {},
  );
}

export function planningBench({ rounds = 7, perRound = 20_000 } = {}) {
  const health = new HealthBoard(config().routing.breaker);
  const planner = new Planner(new Catalogue(config()), health);
  // some health, so that latency ordering and the breaker have work to do
  for (let m = 0; m < MODELS; m += 3)
    health.record({
      target: `${PROVIDERS[m % 3]}/model-${m}-0`,
      requestId: 'w',
      result: 'ok',
      latencyMs: 100 + (m % 50),
      final: false,
      at: 0,
    });
  const body = new TextEncoder().encode(
    JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hello' }] }),
  );
  const now = Date.now();
  const metaJson = (i) =>
    JSON.stringify({
      requestId: `r${i}`,
      model: 'm',
      stream: false,
      teamId: i % 10 === 0 ? 'team-eu' : 'team-a',
      keyId: 'k',
      tags: { app: 'bench' },
      deadlineAt: now + 60_000,
      receivedAt: now,
    });
  const out = {};
  for (const strategy of [null, 'weighted', 'latency', 'cost', 'least-busy']) {
    const perPlanUs = [];
    for (let r = 0; r < rounds; r++) {
      const metas = Array.from({ length: perRound }, (_, i) => metaJson(i));
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) {
        const meta = JSON.parse(metas[i]);
        const { json } = planner.plan({
          requestId: meta.requestId,
          model: `m${(i * 7919) % MODELS}`,
          stream: meta.stream,
          teamId: meta.teamId,
          keyId: meta.keyId,
          tags: meta.tags,
          region: null,
          strategy,
          body,
        });
        if (json.length < 10) throw new Error('no plan');
        // the final outcome ends the in-flight count, as the executor's event does
        health.record({
          target: '',
          requestId: meta.requestId,
          result: 'neutral',
          latencyMs: 0,
          final: true,
          at: 0,
        });
      }
      perPlanUs.push(((performance.now() - t0) * 1000) / perRound);
    }
    perPlanUs.sort((a, b) => a - b);
    out[strategy ?? 'fallback'] = {
      medianUs: round(perPlanUs[Math.floor(rounds / 2)]),
      minUs: round(perPlanUs[0]),
      maxUs: round(perPlanUs.at(-1)),
    };
  }
  return { models: MODELS, targetsPerModel: TARGETS, perRound, rounds, perStrategy: out };
}

const round = (x) => Math.round(x * 100) / 100;

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = planningBench();
  console.log(JSON.stringify(r, null, 2));
  const worst = Math.max(...Object.values(r.perStrategy).map((s) => s.medianUs));
  console.log(
    `planning: ${MODELS} models × ${TARGETS} targets, worst strategy median ${worst} µs per plan (target ≤ 50 µs)`,
  );
}
