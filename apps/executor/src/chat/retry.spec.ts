import { GatewayError, type Plan, type PlanPolicy, type TargetOutcomeEvent } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { backoffMs, countsAgainstTarget, isTransient, pause } from './retry.js';
import { RoutingStory } from './routing-story.js';

const P: PlanPolicy = {
  maxRetries: 3,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  retryAfterCapMs: 2_000,
  totalTimeoutMs: null,
  ttftTimeoutMs: null,
  hedge: false,
};

describe('backoff', () => {
  it('doubles per round within [d/2, d], capped', () => {
    expect(backoffMs(P, 1, undefined, () => 0)).toBe(50);
    expect(backoffMs(P, 1, undefined, () => 1)).toBe(100);
    expect(backoffMs(P, 3, undefined, () => 1)).toBe(400);
    expect(backoffMs(P, 10, undefined, () => 1)).toBe(1_000);
    expect(backoffMs(P, 10, undefined, () => 0)).toBe(500);
  });

  it('honours retry-after, up to the cap; beyond it, no retry', () => {
    expect(backoffMs(P, 1, 1, () => 0)).toBe(1_000);
    expect(backoffMs(P, 1, 0, () => 1)).toBe(100);
    expect(backoffMs(P, 1, 3, () => 0)).toBeNull();
  });

  it('what is transient, and what counts against a target', () => {
    expect(isTransient(new GatewayError('PROVIDER_RATE_LIMITED', 'x'))).toBe(true);
    expect(isTransient(new GatewayError('PROVIDER_TIMEOUT', 'x'))).toBe(true);
    expect(isTransient(new GatewayError('CONTEXT_WINDOW_EXCEEDED', 'x'))).toBe(false);
    expect(isTransient(new GatewayError('PROVIDER_ERROR', 'x', { retryable: false }))).toBe(false);
    expect(countsAgainstTarget(new GatewayError('INVALID_REQUEST', 'x'))).toBe(false);
    expect(countsAgainstTarget(new GatewayError('PROVIDER_UNAVAILABLE', 'x'))).toBe(true);
  });

  it('pause ends early when the signal aborts', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = pause(10_000, ac.signal);
    ac.abort();
    await p;
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});

describe('RoutingStory', () => {
  const plan: Plan = {
    model: 'm',
    strategy: 'latency',
    targets: [],
    skipped: [{ providerId: 'eu', model: 'x', reason: 'circuit_open' }],
  };
  const t = (providerId: string) => ({
    providerId,
    providerType: 'openai' as const,
    model: 'm1',
    baseUrl: null,
    timeoutMs: 1,
    price: null,
  });

  it('tells every attempt, builds the header and the usage routing, skipped targets last', () => {
    const told: TargetOutcomeEvent[] = [];
    const s = new RoutingStory(plan, 'r1', (e) => told.push(e));
    const a = t('a');
    const b = t('b');
    s.begin(a);
    s.failed(a, new GatewayError('PROVIDER_RATE_LIMITED', 'x'), 12);
    s.begin(b);
    s.ok(b, 30, 10);
    expect(s.header()).toBe('a/m1:429,b/m1:ok,eu/x:skipped');
    expect(s.routing()).toEqual({
      strategy: 'latency',
      attempts: [
        { providerId: 'a', model: 'm1', outcome: 'failed', error: 'PROVIDER_RATE_LIMITED', latencyMs: 12 },
        { providerId: 'b', model: 'm1', outcome: 'ok', latencyMs: 30 },
        { providerId: 'eu', model: 'x', outcome: 'skipped', error: 'circuit_open', latencyMs: 0 },
      ],
    });
    s.finish();
    expect(told.map((e) => [e.target, e.result, e.final])).toEqual([
      ['a/m1', 'failed', false],
      ['b/m1', 'ok', false],
      ['', 'neutral', true],
    ]);
    expect(told[1]!.ttftMs).toBe(10);
  });

  it('a 400 of the request is neutral for the target; a stream that broke after its start is one failed attempt', () => {
    const told: TargetOutcomeEvent[] = [];
    const s = new RoutingStory({ ...plan, skipped: [] }, 'r2', (e) => told.push(e));
    const a = t('a');
    s.failed(a, new GatewayError('INVALID_REQUEST', 'x'), 5);
    const b = t('b');
    s.ok(b, 8, 8);
    s.failed(b, new GatewayError('PROVIDER_ERROR', 'cut'), 50);
    expect(s.routing().attempts.map((x) => [x.providerId, x.outcome, x.error])).toEqual([
      ['a', 'failed', 'INVALID_REQUEST'],
      ['b', 'failed', 'PROVIDER_ERROR'],
    ]);
    expect(told.map((e) => e.result)).toEqual(['neutral', 'ok', 'failed']);
  });
});
