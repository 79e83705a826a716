import { validateConfig } from '@gw/config';
import type { TargetOutcomeEvent } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { HealthBoard } from '../health/health-board.js';
import { Catalogue } from './catalogue.js';
import { Planner, type PlanRequest } from './planner.js';

const price = (i: number, o: number) => ({ inputPerMTok: i, outputPerMTok: o });

const config = validateConfig(
  {
    providers: [
      { id: 'oa', type: 'openai', apiKey: 'k' },
      { id: 'an', type: 'anthropic', apiKey: 'k' },
      { id: 'eu', type: 'openai-compatible', baseUrl: 'http://eu.example/v1' },
    ],
    models: [
      {
        name: 'chat',
        targets: [
          {
            provider: 'oa',
            model: 'gpt-4o',
            price: price(2.5, 10),
            weight: 1,
            region: 'us',
            contextWindow: 128_000,
          },
          {
            provider: 'an',
            model: 'claude-3-5-haiku',
            price: price(0.8, 4),
            weight: 3,
            region: 'us',
            contextWindow: 200_000,
          },
          {
            provider: 'eu',
            model: 'llama-3.1-8b',
            price: price(0.1, 0.1),
            weight: 1,
            region: 'eu',
            contextWindow: 300,
          },
        ],
        routing: {
          strategy: 'fallback',
          classes: [
            { class: 'code', targets: ['an/claude-3-5-haiku'] },
            { class: 'legal', targets: ['eu/llama-3.1-8b'] },
          ],
        },
      },
      {
        name: 'hedged',
        targets: [
          { provider: 'oa', model: 'gpt-4o-mini' },
          { provider: 'an', model: 'claude-3-5-haiku' },
        ],
        routing: { strategy: 'fallback', hedge: { enabled: true, minDelayMs: 50, maxDelayMs: 2_000 } },
      },
    ],
    routing: {
      breaker: { consecutiveFailures: 2, openMs: 60_000 },
      retry: { maxRetries: 2 },
      timeouts: { ttftMs: 5_000 },
      policies: [
        { name: 'eu-only', when: { team: 'team-eu' }, allow: { regions: ['eu'] } },
        {
          name: 'no-anthropic-for-finance',
          when: { tags: { dept: 'finance' } },
          allow: { providers: ['oa', 'eu'] },
        },
      ],
      classes: [
        { name: 'code', keywords: ['typescript', 'stack trace'] },
        {
          name: 'legal',
          examples: [
            'review this contract clause for liability',
            'is this non-compete agreement enforceable',
          ],
        },
      ],
    },
  },
  {},
);

const enc = new TextEncoder();
function req(over: Partial<PlanRequest> & { prompt?: string; maxTokens?: number } = {}): PlanRequest {
  const { prompt, maxTokens, ...rest } = over;
  const body: Record<string, unknown> = {
    model: over.model ?? 'chat',
    messages: [{ role: 'user', content: prompt ?? 'hi' }],
  };
  if (maxTokens !== undefined) body['max_tokens'] = maxTokens;
  return {
    requestId: `r-${Math.random()}`,
    model: 'chat',
    stream: false,
    teamId: 't',
    keyId: 'k',
    tags: {},
    region: null,
    strategy: null,
    body: enc.encode(JSON.stringify(body)),
    ...rest,
  };
}

function planner(random: () => number = Math.random) {
  const health = new HealthBoard(config.routing.breaker);
  return { health, p: new Planner(new Catalogue(config), health, random) };
}
const keys = (r: { plan: { targets: Array<{ providerId: string; model: string }> } }) =>
  r.plan.targets.map((t) => `${t.providerId}/${t.model}`);
const fail = (target: string): TargetOutcomeEvent => ({
  target,
  requestId: 'x',
  result: 'failed',
  latencyMs: 1,
  final: false,
  at: 0,
});
const ok = (target: string, latencyMs: number): TargetOutcomeEvent => ({
  target,
  requestId: 'x',
  result: 'ok',
  latencyMs,
  final: false,
  at: 0,
});

describe('Planner: strategies', () => {
  it('fallback: config order, with the routing policy of the config in the plan', () => {
    const r = planner().p.plan(req());
    expect(keys(r)).toEqual(['oa/gpt-4o', 'an/claude-3-5-haiku', 'eu/llama-3.1-8b']);
    expect(r.plan.strategy).toBe('fallback');
    expect(r.plan.policy).toMatchObject({ maxRetries: 2, ttftTimeoutMs: 5_000, hedge: false });
    expect(JSON.parse(r.json)).toEqual(r.plan);
  });

  it('weighted: the first target drawn in proportion to the weights', () => {
    const counts = new Map<string, number>();
    const { p } = planner();
    for (let i = 0; i < 5_000; i++) {
      const first = keys(p.plan(req({ strategy: 'weighted' })))[0]!;
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    // weights 1 : 3 : 1
    expect((counts.get('an/claude-3-5-haiku') ?? 0) / 5_000).toBeGreaterThan(0.53);
    expect((counts.get('an/claude-3-5-haiku') ?? 0) / 5_000).toBeLessThan(0.67);
    expect(counts.get('oa/gpt-4o')).toBeGreaterThan(700);
    const all = keys(planner(() => 0.99).p.plan(req({ strategy: 'weighted' })));
    expect(new Set(all).size).toBe(3);
  });

  it('latency: lowest EWMA first, unmeasured targets first of all (so they get measured)', () => {
    const { p, health } = planner();
    health.record(ok('oa/gpt-4o', 900));
    health.record(ok('an/claude-3-5-haiku', 200));
    expect(keys(p.plan(req({ strategy: 'latency' })))).toEqual([
      'eu/llama-3.1-8b',
      'an/claude-3-5-haiku',
      'oa/gpt-4o',
    ]);
    health.record(ok('eu/llama-3.1-8b', 500));
    expect(keys(p.plan(req({ strategy: 'latency' })))).toEqual([
      'an/claude-3-5-haiku',
      'eu/llama-3.1-8b',
      'oa/gpt-4o',
    ]);
  });

  it('cost: cheapest for this request first', () => {
    expect(keys(planner().p.plan(req({ strategy: 'cost' })))).toEqual([
      'eu/llama-3.1-8b',
      'an/claude-3-5-haiku',
      'oa/gpt-4o',
    ]);
  });

  it('least-busy: fewest in-flight requests first', () => {
    const { p, health } = planner();
    health.started('a', 'oa/gpt-4o', 60_000);
    health.started('b', 'oa/gpt-4o', 60_000);
    health.started('c', 'an/claude-3-5-haiku', 60_000);
    expect(keys(p.plan(req({ strategy: 'least-busy' })))[0]).toBe('eu/llama-3.1-8b');
    // each plan counts for its first target: the next least-busy plan sees it
    expect(health.busy('eu/llama-3.1-8b')).toBe(1);
  });

  it('the override header must name a strategy', () => {
    expect(() => planner().p.plan(req({ strategy: 'fastest' }))).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', param: 'x-gateway-route-strategy' }),
    );
    expect(planner().p.plan(req({ strategy: ' Cost ' })).plan.strategy).toBe('cost');
  });
});

describe('Planner: conditional routing', () => {
  it('a team pinned to EU-only targets never gets another target, whatever the strategy or health', () => {
    const { p, health } = planner();
    for (const s of ['fallback', 'weighted', 'latency', 'cost', 'least-busy']) {
      const r = p.plan(req({ teamId: 'team-eu', strategy: s }));
      expect(keys(r)).toEqual(['eu/llama-3.1-8b']);
      expect(r.plan.skipped.map((x) => x.reason)).toEqual([
        'policy eu-only: region',
        'policy eu-only: region',
      ]);
    }
    // even with the EU target's circuit open, no US target is added
    health.record(fail('eu/llama-3.1-8b'));
    health.record(fail('eu/llama-3.1-8b'));
    expect(keys(p.plan(req({ teamId: 'team-eu' })))).toEqual(['eu/llama-3.1-8b']);
    // and a direct provider/model address outside the region is refused
    expect(() => p.plan(req({ teamId: 'team-eu', model: 'oa/gpt-4o' }))).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', status: 403 }),
    );
  });

  it('policies on tags and on the provider; the client region header narrows further', () => {
    const { p } = planner();
    expect(keys(p.plan(req({ tags: { dept: 'finance' } })))).toEqual(['oa/gpt-4o', 'eu/llama-3.1-8b']);
    expect(keys(p.plan(req({ region: 'us' })))).toEqual(['oa/gpt-4o', 'an/claude-3-5-haiku']);
    expect(() => p.plan(req({ region: 'apac' }))).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', message: expect.stringContaining('region apac') }),
    );
  });

  it('content: a prompt class goes to its targets first, by keyword or by similarity; others stay as fallbacks', () => {
    const { p } = planner();
    const code = p.plan(req({ prompt: 'my TypeScript build prints this stack trace' }));
    expect(code.promptClass).toBe('code');
    expect(keys(code)).toEqual(['an/claude-3-5-haiku', 'oa/gpt-4o', 'eu/llama-3.1-8b']);
    const legal = p.plan(req({ prompt: 'Please review the liability clause of this contract' }));
    expect(legal.promptClass).toBe('legal');
    expect(keys(legal)[0]).toBe('eu/llama-3.1-8b');
    expect(p.plan(req({ prompt: 'hello there' })).promptClass).toBeNull();
  });

  it('context window: targets too small are left out; nothing fits → 400 before any call', () => {
    const { p } = planner();
    const long = 'lorem ipsum dolor sit amet '.repeat(100); // ~ 500 tokens: over the 300 window of the EU target
    const r = p.plan(req({ prompt: long }));
    expect(keys(r)).toEqual(['oa/gpt-4o', 'an/claude-3-5-haiku']);
    expect(r.plan.skipped[0]).toMatchObject({
      providerId: 'eu',
      reason: expect.stringMatching(/^context_window: \d+\+0 > 300$/),
    });
    // max_tokens counts against the window too
    expect(keys(p.plan(req({ prompt: 'short', maxTokens: 290 })))).toEqual([
      'oa/gpt-4o',
      'an/claude-3-5-haiku',
    ]);
    // the EU team's only target is too small: a 400 that names it, not a US target
    expect(() => p.plan(req({ prompt: long, teamId: 'team-eu' }))).toThrow(
      expect.objectContaining({
        code: 'CONTEXT_WINDOW_EXCEEDED',
        message: expect.stringMatching(/no target of chat: eu\/llama-3\.1-8b \(300\)$/),
      }),
    );
    const huge = 'word '.repeat(210_000);
    expect(() => p.plan(req({ prompt: huge }))).toThrow(
      expect.objectContaining({
        code: 'CONTEXT_WINDOW_EXCEEDED',
        status: 400,
        retryable: false,
        message: expect.stringContaining('fits the context window of no target'),
      }),
    );
  });
});

describe('Planner: health', () => {
  it('leaves out a target whose circuit is open (skipped: circuit_open), and keeps all when every one is open', () => {
    const { p, health } = planner();
    health.record(fail('oa/gpt-4o'));
    health.record(fail('oa/gpt-4o'));
    const r = p.plan(req());
    expect(keys(r)).toEqual(['an/claude-3-5-haiku', 'eu/llama-3.1-8b']);
    expect(r.plan.skipped).toEqual([{ providerId: 'oa', model: 'gpt-4o', reason: 'circuit_open' }]);
    for (const t of ['an/claude-3-5-haiku', 'eu/llama-3.1-8b']) {
      health.record(fail(t));
      health.record(fail(t));
    }
    expect(keys(p.plan(req()))).toHaveLength(3);
  });

  it('hedging (opt-in, non-stream): each target carries its hedge delay, its recent p95 within the bounds', () => {
    const { p, health } = planner();
    const cold = p.plan(req({ model: 'hedged' }));
    expect(cold.plan.policy?.hedge).toBe(true);
    expect(cold.plan.targets.map((t) => t.hedgeAfterMs)).toEqual([2_000, 2_000]);
    for (let i = 0; i < 20; i++) health.record(ok('oa/gpt-4o-mini', 100 + i));
    expect(p.plan(req({ model: 'hedged' })).plan.targets[0]!.hedgeAfterMs).toBe(118);
    expect(p.plan(req({ model: 'hedged', stream: true })).plan.policy?.hedge).toBe(false);
    expect(p.plan(req()).plan.targets[0]!.hedgeAfterMs).toBeUndefined();
  });
});
