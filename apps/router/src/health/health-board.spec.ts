import type { TargetOutcomeEvent } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { HealthBoard, type BreakerSettings } from './health-board.js';

const S: BreakerSettings = {
  consecutiveFailures: 3,
  errorRate: 0.5,
  minRequests: 10,
  windowMs: 10_000,
  openMs: 1_000,
};

function ev(
  target: string,
  result: TargetOutcomeEvent['result'],
  latencyMs = 100,
  extra: Partial<TargetOutcomeEvent> = {},
): TargetOutcomeEvent {
  return { target, requestId: 'r', result, latencyMs, final: false, at: 0, ...extra };
}

function board() {
  let now = 1_000_000;
  const b = new HealthBoard(S, () => now);
  return { b, tick: (ms: number) => (now += ms) };
}

describe('HealthBoard: circuit breaker', () => {
  it('opens after N consecutive failures, stays open for openMs, then lets one half-open probe through', () => {
    const { b, tick } = board();
    b.record(ev('a/m', 'failed'));
    b.record(ev('a/m', 'failed'));
    expect(b.allow('a/m')).toBe(true);
    b.record(ev('a/m', 'failed'));
    expect(b.state('a/m')).toBe('open');
    expect(b.allow('a/m')).toBe(false);
    tick(999);
    expect(b.allow('a/m')).toBe(false);
    tick(1);
    expect(b.allow('a/m')).toBe(true); // the probe
    expect(b.state('a/m')).toBe('half-open');
    expect(b.allow('a/m')).toBe(false); // one probe at a time
  });

  it('a failed probe opens it again; a successful one closes it', () => {
    const { b, tick } = board();
    for (let i = 0; i < 3; i++) b.record(ev('a/m', 'failed'));
    tick(1_000);
    expect(b.allow('a/m')).toBe(true);
    b.record(ev('a/m', 'failed'));
    expect(b.state('a/m')).toBe('open');
    expect(b.allow('a/m')).toBe(false);
    tick(1_000);
    expect(b.allow('a/m')).toBe(true);
    b.record(ev('a/m', 'ok'));
    expect(b.state('a/m')).toBe('closed');
    expect(b.allow('a/m')).toBe(true);
  });

  it('opens on the error rate over the window, with enough requests, even without a run of failures', () => {
    const { b } = board();
    for (let i = 0; i < 5; i++) {
      b.record(ev('a/m', 'ok'));
      b.record(ev('a/m', 'failed'));
    }
    expect(b.state('a/m')).toBe('open');
  });

  it('forgets failures outside the window; neutral outcomes (4xx, cancel, hedge lost) count for nothing', () => {
    const { b, tick } = board();
    for (let i = 0; i < 4; i++) {
      b.record(ev('a/m', 'ok'));
      b.record(ev('a/m', 'failed'));
    }
    tick(11_000);
    b.record(ev('a/m', 'ok'));
    b.record(ev('a/m', 'failed'));
    for (let i = 0; i < 10; i++) b.record(ev('a/m', 'neutral'));
    expect(b.state('a/m')).toBe('closed');
  });

  it('keeps targets apart', () => {
    const { b } = board();
    for (let i = 0; i < 3; i++) b.record(ev('a/m', 'failed'));
    expect(b.allow('a/m')).toBe(false);
    expect(b.allow('b/m')).toBe(true);
  });
});

describe('HealthBoard: latency and load', () => {
  it('keeps an EWMA of latency (with time to first token) and a p95 of recent latencies', () => {
    const { b } = board();
    expect(b.latency('a/m')).toBeNull();
    b.record(ev('a/m', 'ok', 100, { ttftMs: 20 }));
    expect(b.latency('a/m')).toBe(60);
    for (let i = 1; i <= 20; i++) b.record(ev('a/m', 'ok', i * 10));
    expect(b.p95('a/m')).toBe(190); // 21 samples (100, 10..200): the 20th smallest
    expect(b.p95('b/m')).toBeNull();
  });

  it('counts in-flight requests per first target until their final outcome', () => {
    const { b } = board();
    b.started('r1', 'a/m', 60_000);
    b.started('r2', 'a/m', 60_000);
    expect(b.busy('a/m')).toBe(2);
    b.record({ target: '', requestId: 'r1', result: 'neutral', latencyMs: 0, final: true, at: 0 });
    expect(b.busy('a/m')).toBe(1);
    b.record({ target: '', requestId: 'unknown', result: 'neutral', latencyMs: 0, final: true, at: 0 });
    expect(b.busy('a/m')).toBe(1);
  });
});
