import { describe, expect, it } from 'vitest';
import { periodOf, periodSpan } from './periods.js';
import { worstCaseCostNanoUsd } from './cost.js';

describe('periodOf', () => {
  const t = Date.UTC(2026, 10, 23, 12, 0, 0); // 2026-11-23T12:00Z
  it('names the UTC day, month, or the whole life of the budget', () => {
    expect(periodOf('daily', t)).toEqual({ id: 'd2026-11-23', ttlMs: 12 * 3_600_000 + 86_400_000 });
    expect(periodOf('monthly', t).id).toBe('m2026-11');
    expect(periodOf('monthly', t).ttlMs).toBe(Date.UTC(2026, 11, 1) - t + 86_400_000);
    expect(periodOf('total', t)).toEqual({ id: 't', ttlMs: 0 });
  });
  it('rolls over at midnight UTC and at the year end', () => {
    expect(periodOf('daily', Date.UTC(2026, 11, 31, 23, 59, 59, 999)).id).toBe('d2026-12-31');
    expect(periodOf('monthly', Date.UTC(2027, 0, 1)).id).toBe('m2027-01');
  });
});

describe('periodSpan', () => {
  it('bounds the period [start, end) in UTC', () => {
    const t = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    expect(periodSpan('daily', t)).toEqual({
      id: 'd2026-12-31',
      startMs: Date.UTC(2026, 11, 31),
      endMs: Date.UTC(2027, 0, 1),
    });
    expect(periodSpan('monthly', t)).toEqual({
      id: 'm2026-12',
      startMs: Date.UTC(2026, 11, 1),
      endMs: Date.UTC(2027, 0, 1),
    });
    expect(periodSpan('total', t)).toEqual({ id: 't', startMs: -Infinity, endMs: Infinity });
  });
});

describe('worstCaseCostNanoUsd', () => {
  it('prices the most expensive target', () => {
    const cheap = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
    const dear = { inputPerMTok: 2.5, outputPerMTok: 10 };
    expect(worstCaseCostNanoUsd([cheap, dear, null], 1000, 100, 0)).toBe(2_500_000n + 1_000_000n);
    expect(worstCaseCostNanoUsd([], 1000, 100, 0)).toBe(0n);
  });

  it('includes the input images at each target\'s perImage, so images cannot overshoot a budget', () => {
    const tokensDear = { inputPerMTok: 2.5, outputPerMTok: 10 };
    const imagesDear = { inputPerMTok: 0.15, outputPerMTok: 0.6, perImage: 0.01 };
    // no images: the token-expensive target is the worst case
    expect(worstCaseCostNanoUsd([tokensDear, imagesDear], 1000, 100, 0)).toBe(2_500_000n + 1_000_000n);
    // 4 images: 150_000 + 60_000 + 4 × 10_000_000 on the image-priced target beats 3_500_000
    expect(worstCaseCostNanoUsd([tokensDear, imagesDear], 1000, 100, 4)).toBe(150_000n + 60_000n + 40_000_000n);
    // a target without perImage (absent or 0) reserves nothing for images
    expect(worstCaseCostNanoUsd([tokensDear, { ...tokensDear, perImage: 0 }], 1000, 100, 4)).toBe(2_500_000n + 1_000_000n);
  });
});
