import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HEADERS, ResultMeta, type Plan, type PlanPolicy, type PlanTarget, type TargetOutcomeEvent, type UsageEvent } from '@gw/contracts';
import type { FaultRule, Simulator } from '@gw/testing';
import { errorFromFrame, type Frame } from '@gw/transport';
import { ImageFetcher } from '../images/image-fetcher.js';
import { ProviderDirectory } from '../providers/provider-directory.js';
import { startExecutorStack, waitFor, type ExecutorStack } from '../testing/harness.js';
import { ChatExecutor } from './chat.executor.js';

/**
 * Resilience of the executor against the provider simulator's faults, over the real NATS: one of two targets
 * failing every call (429, 500, timeouts, slow first tokens, cut streams, malformed JSON) never fails a client
 * request; retry rounds honour retry-after; hedged requests cancel the loser; every attempt is in the routing
 * story (usage event, x-gateway-route) and told to the routers as an outcome event.
 */
const PRICE = { inputPerMTok: 1, outputPerMTok: 2 };
const POLICY: PlanPolicy = {
  maxRetries: 1,
  baseDelayMs: 50,
  maxDelayMs: 200,
  retryAfterCapMs: 2_000,
  totalTimeoutMs: null,
  ttftTimeoutMs: null,
  hedge: false,
};

let stack: ExecutorStack;
let sim: Simulator;
const outcomes: TargetOutcomeEvent[] = [];

function target(model: string, over: Partial<PlanTarget> = {}): PlanTarget {
  return {
    providerId: 'sim',
    providerType: 'openai-compatible',
    model,
    baseUrl: null,
    timeoutMs: 5_000,
    price: PRICE,
    ...over,
  };
}

async function call(
  plan: Omit<Plan, 'model' | 'strategy' | 'skipped'> & Partial<Plan>,
  stream = false,
): Promise<{ id: string; frames: Frame[]; ms: number }> {
  return stack.send({
    meta: { model: 'm', stream, teamId: 't', keyId: 'k' },
    body: { model: 'm', messages: [{ role: 'user', content: 'Tell me about resilience' }], stream },
    plan: JSON.stringify({ model: 'm', strategy: 'fallback', skipped: [], ...plan }),
  });
}

async function usageOf(id: string): Promise<UsageEvent> {
  const events = await stack.usageOf(id, 100);
  expect(events).toHaveLength(1);
  return events[0]!;
}

const result = (f: Frame) => ResultMeta.parse(JSON.parse(f.headers!.get(HEADERS.result)));
const ok = (frames: Frame[]) =>
  frames[0]!.type === 'response' || (frames[0]!.type === 'start' && frames.at(-1)!.type === 'end');

beforeAll(async () => {
  stack = await startExecutorStack({
    name: 'rtint',
    subject: 'chat',
    providers: (url) => [{ id: 'sim', type: 'openai-compatible', baseUrl: `${url}/v1` }],
    connections: 32,
    serve: ({ config, upstream, recorder }) => {
      const executor = new ChatExecutor(new ProviderDirectory(config), upstream, recorder, new ImageFetcher(config.images), (e) =>
        outcomes.push(e),
      );
      return (req, out) => executor.handle(req, out);
    },
  });
  sim = stack.sim;
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(() => sim.clearFaults());

const FAULTS: Array<{
  name: string;
  rule: FaultRule['fault'];
  stream: boolean;
  code: string;
  header: string;
  primary?: Partial<PlanTarget>;
  policy?: Partial<PlanPolicy>;
}> = [
  {
    name: '429 with retry-after',
    rule: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    stream: false,
    code: 'PROVIDER_RATE_LIMITED',
    header: '429',
  },
  { name: '500', rule: { kind: 'status', status: 500 }, stream: true, code: 'PROVIDER_ERROR', header: '5xx' },
  {
    name: 'a hung upstream (per-attempt timeout)',
    rule: { kind: 'timeout' },
    stream: false,
    code: 'PROVIDER_TIMEOUT',
    header: 'timeout',
    primary: { timeoutMs: 300 },
  },
  {
    name: 'a slow first token (TTFT timeout)',
    rule: { kind: 'slow-first-chunk', ms: 3_000 },
    stream: true,
    code: 'PROVIDER_TIMEOUT',
    header: 'timeout',
    policy: { ttftTimeoutMs: 250 },
  },
  {
    name: 'a stream cut before its first chunk',
    rule: { kind: 'cut-stream', afterChunks: 0 },
    stream: true,
    code: 'PROVIDER_ERROR',
    header: '5xx',
  },
  {
    name: 'malformed JSON',
    rule: { kind: 'malformed-json' },
    stream: false,
    code: 'PROVIDER_ERROR',
    header: '5xx',
  },
];

describe('one of two targets fails every call: no client request fails', () => {
  for (const f of FAULTS) {
    it(f.name, async () => {
      sim.setFaults([{ match: { model: 'dead' }, fault: f.rule! }]);
      const plan = {
        targets: [target('dead', f.primary), target('good')],
        policy: { ...POLICY, ...f.policy },
      };
      const runs = await Promise.all(Array.from({ length: 4 }, () => call(plan, f.stream)));
      for (const r of runs) {
        expect(ok(r.frames), JSON.stringify(r.frames.map((x) => x.type))).toBe(true);
        const meta = result(r.frames[0]!);
        expect(meta).toMatchObject({
          providerId: 'sim',
          model: 'good',
          route: `sim/dead:${f.header},sim/good:ok`,
        });
      }
      const u = await usageOf(runs[0]!.id);
      expect(u.status).toBe('ok');
      expect(u.model).toBe('good');
      expect(u.routing).toMatchObject({
        strategy: 'fallback',
        attempts: [
          { providerId: 'sim', model: 'dead', outcome: 'failed', error: f.code },
          { providerId: 'sim', model: 'good', outcome: 'ok' },
        ],
      });
      const told = outcomes.filter((o) => o.requestId === runs[0]!.id);
      expect(told.map((o) => [o.target, o.result, o.final])).toEqual([
        ['sim/dead', 'failed', false],
        ['sim/good', 'ok', false],
        ['', 'neutral', true],
      ]);
    });
  }

  it('never after the first streamed byte: a stream cut mid-way fails, the second target is not called', async () => {
    sim.setFaults([{ match: { model: 'dead' }, fault: { kind: 'cut-stream', afterChunks: 3 } }]);
    const before = sim.stats().requestsByModel['good'] ?? 0;
    const { id, frames } = await call({ targets: [target('dead'), target('good')], policy: POLICY }, true);
    expect(frames[0]!.type).toBe('start');
    expect(frames.at(-1)!.type).toBe('error');
    expect(errorFromFrame(frames.at(-1)!).code).toBe('PROVIDER_ERROR');
    expect(sim.stats().requestsByModel['good'] ?? 0).toBe(before);
    const u = await usageOf(id);
    expect(u.routing?.attempts).toMatchObject([{ model: 'dead', outcome: 'failed' }]);
  });
});

describe('retry rounds', () => {
  it('every target failed transiently: another round after the backoff, honouring retry-after', async () => {
    sim.setFaults([
      { match: { model: 'flaky' }, times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 1 } },
    ]);
    const { id, frames, ms } = await call({ targets: [target('flaky')], policy: POLICY });
    expect(frames[0]!.type).toBe('response');
    expect(ms).toBeGreaterThanOrEqual(1_000);
    const u = await usageOf(id);
    expect(u.routing?.attempts.map((a) => a.outcome)).toEqual(['failed', 'ok']);
    expect(u.attempts).toBe(2);
  });

  it('a retry-after beyond the cap fails at once with the 429 and its retry-after', async () => {
    sim.setFaults([
      { match: { model: 'flaky' }, fault: { kind: 'status', status: 429, retryAfterSeconds: 30 } },
    ]);
    const { frames, ms } = await call({ targets: [target('flaky')], policy: POLICY });
    const e = errorFromFrame(frames[0]!);
    expect(e.code).toBe('PROVIDER_RATE_LIMITED');
    expect(frames[0]!.headers?.get(HEADERS.route)).toBe('sim/flaky:429');
    expect(e.retryAfterSeconds).toBe(30);
    expect(ms).toBeLessThan(1_000);
  });

  it('no round when one target failed for good (a 400 of the request)', async () => {
    sim.setFaults([{ match: { model: 'bad' }, fault: { kind: 'status', status: 400 } }]);
    const { frames } = await call({ targets: [target('bad'), target('good2')], policy: POLICY });
    expect(errorFromFrame(frames[0]!).code).toBe('INVALID_REQUEST');
    expect(sim.stats().requestsByModel['good2'] ?? 0).toBe(0);
  });

  it('the total timeout bounds every attempt together', async () => {
    sim.setFaults([{ match: { model: 'hung' }, fault: { kind: 'timeout' } }]);
    const { frames, ms } = await call({
      targets: [target('hung'), target('hung')],
      policy: { ...POLICY, totalTimeoutMs: 400 },
    });
    expect(errorFromFrame(frames[0]!).code).toBe('DEADLINE_EXCEEDED');
    expect(ms).toBeLessThan(2_000);
  });
});

describe('hedged requests', () => {
  it("the second target starts after the first one's hedge delay; the first answer wins and the loser is aborted upstream", async () => {
    sim.setFaults([{ match: { model: 'slow' }, fault: { kind: 'latency', ms: 2_000 } }]);
    const aborted = sim.stats().abortedTotal;
    const { id, frames, ms } = await call({
      targets: [target('slow', { hedgeAfterMs: 150 }), target('fast', { hedgeAfterMs: 150 })],
      policy: { ...POLICY, hedge: true },
    });
    expect(frames[0]!.type).toBe('response');
    expect(result(frames[0]!)).toMatchObject({ model: 'fast', route: 'sim/fast:ok,sim/slow:hedge_lost' });
    expect(ms).toBeLessThan(1_500);
    expect(
      await waitFor(
        () => sim.stats().aborted.some((a) => a.model === 'slow') && sim.stats().abortedTotal > aborted,
        2_000,
      ),
    ).toBe(true);
    const u = await usageOf(id);
    expect(u.routing?.attempts.map((a) => [a.model, a.outcome])).toEqual([
      ['fast', 'ok'],
      ['slow', 'hedge_lost'],
    ]);
    // the aborted loser reported nothing: billed only for the winner
    expect(u.outputTokens).toBeGreaterThan(0);
    expect(
      outcomes.filter((o) => o.requestId === id && o.target === 'sim/slow').map((o) => o.result),
    ).toEqual(['neutral']);
  });

  it('a first target that answers within its delay is the only call', async () => {
    const before = sim.stats().requestsByModel['spare'] ?? 0;
    const { frames } = await call({
      targets: [target('quick', { hedgeAfterMs: 2_000 }), target('spare', { hedgeAfterMs: 2_000 })],
      policy: { ...POLICY, hedge: true },
    });
    expect(result(frames[0]!)).toMatchObject({ model: 'quick', route: 'sim/quick:ok' });
    expect(sim.stats().requestsByModel['spare'] ?? 0).toBe(before);
  });

  it('a first target that fails before the delay is an ordinary failover', async () => {
    sim.setFaults([{ match: { model: 'boom' }, fault: { kind: 'status', status: 503 } }]);
    const { frames } = await call({
      targets: [target('boom', { hedgeAfterMs: 1_000 }), target('after', { hedgeAfterMs: 1_000 })],
      policy: { ...POLICY, hedge: true },
    });
    expect(result(frames[0]!)).toMatchObject({ model: 'after', route: 'sim/boom:503,sim/after:ok' });
  });
});
