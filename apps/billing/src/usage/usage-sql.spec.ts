import { UsageEvent } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { batchAccounts, batchDays, buildInsertBatch, toUsageRow, UnstorableUsageError } from './usage-sql.js';

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
      inputImages: 0,
      errorCode: null,
      usageEstimated: false,
      attempts: 0,
      mode: 'live',
      routing: null,
      debitAccount: 'key:key-a',
      creditAccount: 'provider:openai',
    });
  });

  it('charges the key, else the team, else an unattributed account; credits the provider (or provider:none)', () => {
    expect(toUsageRow(event({ keyId: null })).debitAccount).toBe('team:team-a');
    expect(toUsageRow(event({ keyId: null, teamId: null })).debitAccount).toBe('system:unattributed');
    expect(toUsageRow(event({ providerId: null })).creditAccount).toBe('provider:none');
  });

  it('keeps the routing story as JSON text and the batch mode', () => {
    const routing = { strategy: 'fallback', attempts: [{ providerId: 'a', model: 'm', outcome: 'failed' as const, latencyMs: 3 }] };
    const row = toUsageRow(event({ mode: 'batch', routing }));
    expect(row.mode).toBe('batch');
    expect(JSON.parse(row.routing!)).toEqual(routing);
  });

  it('keeps the input images (an older event without the field counts none)', () => {
    expect(toUsageRow(event({ inputImages: 3 })).inputImages).toBe(3);
    expect(UsageEvent.safeParse({ ...event(), inputImages: -1 }).success).toBe(false);
    expect(UsageEvent.safeParse({ ...event(), inputImages: 1.5 }).success).toBe(false);
  });

  it('refuses values the columns cannot hold (they would fail every redelivery)', () => {
    expect(() => toUsageRow(event({ inputTokens: 3_000_000_000 }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ costNanoUsd: '9223372036854775808' }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ inputImages: 3_000_000_000 }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ occurredAt: 9e15 }))).toThrow(UnstorableUsageError);
    expect(() => toUsageRow(event({ requestId: '' }))).toThrow(UnstorableUsageError);
  });
});

describe('buildInsertBatch', () => {
  it('one statement with one array parameter per column, whatever the batch size', () => {
    const rows = Array.from({ length: 700 }, (_, i) => toUsageRow(event({ requestId: `r${i}` })));
    const { text, values } = buildInsertBatch(rows);
    expect(values).toHaveLength(26);
    for (const v of values) expect(v).toHaveLength(700);
    expect(text).toContain('unnest($1::text[], $2::timestamptz[]');
    expect(text).toContain('$26::text[]');
    // an image is priced beside the tokens, except on an error (like the per-request price)
    expect(text).toContain("CASE WHEN i.status = 'error' THEN 0 ELSE p.per_request_nano + p.per_image_nano::numeric * i.input_images END");
    expect(text).toContain('ON CONFLICT (request_id) DO NOTHING');
    expect(text).toMatch(/INSERT INTO billing\.ledger_transactions[\s\S]*FROM ins/);
  });

  it('drops repeats of a request id inside the batch (first wins)', () => {
    const a = toUsageRow(event({ requestId: 'dup', inputTokens: 1 }));
    const b = toUsageRow(event({ requestId: 'dup', inputTokens: 2 }));
    const c = toUsageRow(event({ requestId: 'other' }));
    const { values } = buildInsertBatch([a, b, c]);
    expect(values[0]).toEqual(['dup', 'other']);
    expect(values[9]).toEqual([1, 100]);
  });

  it('puts the rows in request-id order (concurrent batches take the unique-index locks in one order)', () => {
    const rows = ['r3', 'r10', 'a', 'r2'].map((requestId) => toUsageRow(event({ requestId })));
    const { values } = buildInsertBatch(rows);
    expect(values[0]).toEqual(['a', 'r10', 'r2', 'r3']);
  });
});

describe('batchAccounts and batchDays', () => {
  it('lists each account once, sorted, with its team', () => {
    const rows = [event({ keyId: 'k2' }), event({ keyId: 'k1' }), event({ keyId: 'k2', providerId: 'anthropic' })].map(toUsageRow);
    expect(batchAccounts(rows).map((a) => a.id)).toEqual(['key:k1', 'key:k2', 'provider:anthropic', 'provider:openai']);
    expect(batchAccounts(rows)[0]).toEqual({ id: 'key:k1', kind: 'key', ref: 'k1', teamId: 'team-a' });
  });

  it('lists the UTC days of a batch once, in order', () => {
    const rows = [event({ occurredAt: Date.parse('2026-11-24T00:00:00Z') }), event({ occurredAt: Date.parse('2026-11-23T23:59:59Z') }), event()].map(toUsageRow);
    const day = (iso: string) => Date.parse(iso) / 86_400_000;
    expect(batchDays(rows)).toEqual([day('2026-11-23T00:00:00Z'), day('2026-11-24T00:00:00Z')]);
  });
});
