import { describe, expect, it } from 'vitest';
import { nakDelayFor } from './jetstream.js';

describe('nakDelayFor', () => {
  it('doubles with each redelivery from the base, capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => nakDelayFor(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('stays finite for huge delivery counts and treats 0 as the first delivery', () => {
    expect(nakDelayFor(10_000, 1_000, 30_000)).toBe(30_000);
    expect(nakDelayFor(0, 500, 30_000)).toBe(500);
  });
});
