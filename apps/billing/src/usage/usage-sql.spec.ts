import { UsageEvent } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { buildInsertBatch, toUsageRow, UnstorableUsageError } from './usage-sql.js';

const event = (over: Partial<Record<string, unknown>> = {}) =>
  UsageEvent.parse({
    requestId: 'req-1',
    occurredAt: Date.parse('2026-11-23T07:30:00.000Z'),
    orgId: null,
    teamId: 'team-a',
    keyId: 'key-a',
    endUser: null,
    requestedModel: 'gpt-4o-mini',
    providerId: 'openai',
    model: 'gpt-4o-mini',
    inputTokens: 100,
    outputTokens: 50,
    costNanoUsd: '45000',
    latencyMs: 12.6,
    cacheStatus: 'miss',
    status: 'ok',
    stream: false,
    tags: { project: 'x' },
    ...over,
  });

describe('toUsageRow', () => {
  it('maps an event to its row (ISO time, rounded latency, JSON tags, exact cost)', () => {
    expect(toUsageRow(event())).toMatchObject({
      requestId: 'req-1',
      occurredAt: '2026-11-23T07:30:00.000Z',
      latencyMs: 13,
      costNanoUsd: '45000',
      tags: '{"project":"x"}',
      cachedInputTokens: 0,
      errorCode: null,
      usageEstimated: false,
      attempts: 0,
    });
  });

  it('refuses values the columns cannot hold (they would fail every redelivery)', () => {
    expect(() => toUsageRow(event({ inputTokens: 3_000_000_000 }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ costNanoUsd: '9223372036854775808' }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ occurredAt: 9e15 }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ requestId: '' }))).toThrow(UnstorableUsageError);
  });
});

describe('buildInsertBatch', () => {
  it('one statement with one array parameter per column, whatever the batch size', () => {
    const rows = Array.from({ length: 700 }, (_, i) => toUsageRow(event({ requestId: `r${i}` })));
    const { text, values } = buildInsertBatch(rows);
    expect(values).toHaveLength(21);
    for (const v of values) expect(v).toHaveLength(700);
    expect(text).toMatch(/^INSERT INTO billing\.usage_records \(request_id, occurred_at, .*attempts\)/);
    expect(text).toContain('unnest($1::text[], $2::timestamptz[]');
    expect(text).toContain('$21::int4[]');
    expect(text.endsWith('ON CONFLICT (request_id) DO NOTHING')).toBe(true);
  });

  it('drops repeats of a request id inside the batch (first wins)', () => {
    const a = toUsageRow(event({ requestId: 'dup', inputTokens: 1 }));
    const b = toUsageRow(event({ requestId: 'dup', inputTokens: 2 }));
    const c = toUsageRow(event({ requestId: 'other' }));
    const { values } = buildInsertBatch([a, b, c]);
    expect(values[0]).toEqual(['dup', 'other']);
    expect(values[9]).toEqual([1, 100]);
  });
});
