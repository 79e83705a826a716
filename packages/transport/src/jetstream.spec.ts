import { describe, expect, it } from 'vitest';
import { ackError, nakDelayFor } from './jetstream.js';

describe('nakDelayFor', () => {
  it('doubles with each redelivery from the base, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nakDelayFor(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('stays finite for huge delivery counts and treats 0 as the first delivery', () => {
    expect(nakDelayFor(10_000, 1_000, 30_000)).toBe(30_000);
    expect(nakDelayFor(0, 500, 30_000)).toBe(500);
  });
});

describe('ackError', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  it('accepts a stored or duplicate acknowledgement', () => {
    expect(ackError('s', { data: enc({ stream: 'USAGE', seq: 4 }), headers: undefined })).toBeNull();
    expect(ackError('s', { data: enc({ stream: 'USAGE', seq: 4, duplicate: true }), headers: undefined })).toBeNull();
  });
  it('names a JetStream error, a malformed reply, and a reply without a stream', () => {
    expect(ackError('s', { data: enc({ error: { code: 503, description: 'insufficient resources' } }), headers: undefined })?.message).toMatch(/insufficient resources/);
    expect(ackError('s', { data: new TextEncoder().encode('not json'), headers: undefined })?.message).toMatch(/malformed/);
    expect(ackError('s', { data: enc({ seq: 1 }), headers: undefined })?.message).toMatch(/malformed/);
  });
});
