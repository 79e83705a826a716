import type { TargetOutcomeBatch, TargetOutcomeEvent } from '@gw/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutcomeBatcher } from './outcome-batcher.js';

const outcome = (requestId: string, result: TargetOutcomeEvent['result']): TargetOutcomeEvent => ({
  target: 'sim/m',
  requestId,
  result,
  latencyMs: 1,
  final: true,
  at: 0,
});

describe('OutcomeBatcher', () => {
  let sent: TargetOutcomeBatch[];
  let batcher: OutcomeBatcher;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    batcher = new OutcomeBatcher((b) => sent.push(b), 20, 3);
  });
  afterEach(() => vi.useRealTimers());

  it('holds successes and neutral outcomes for the flush interval, then sends them in one message, in order', () => {
    batcher.push(outcome('a', 'ok'));
    batcher.push(outcome('b', 'neutral'));
    vi.advanceTimersByTime(19);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent.map((b) => b.outcomes.map((o) => o.requestId))).toEqual([['a', 'b']]);
    vi.advanceTimersByTime(100);
    expect(sent.length).toBe(1); // nothing waiting: no empty message
  });

  it('sends a failure at once, with the successes that waited before it', () => {
    batcher.push(outcome('a', 'ok'));
    batcher.push(outcome('b', 'failed'));
    expect(sent.map((b) => b.outcomes.map((o) => `${o.requestId}:${o.result}`))).toEqual([['a:ok', 'b:failed']]);
    vi.advanceTimersByTime(100);
    expect(sent.length).toBe(1);
  });

  it('sends a full batch without waiting, and close() sends the rest', () => {
    for (const id of ['a', 'b', 'c', 'd']) batcher.push(outcome(id, 'ok'));
    expect(sent.map((b) => b.outcomes.length)).toEqual([3]);
    batcher.close();
    expect(sent.map((b) => b.outcomes.map((o) => o.requestId))).toEqual([['a', 'b', 'c'], ['d']]);
  });
});
