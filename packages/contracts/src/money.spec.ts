import { describe, expect, it } from 'vitest';
import { costNanoUsd, formatNanoUsd, usdToNano } from './money.js';

describe('money', () => {
  it('converts decimal prices exactly', () => {
    expect(usdToNano(0.15)).toBe(150_000_000n);
    expect(usdToNano(2.5)).toBe(2_500_000_000n);
    expect(usdToNano(0.000000001)).toBe(1n);
    expect(() => usdToNano(-1)).toThrow(RangeError);
  });

  it('stays exact when a price is converted again (memo), for more prices than the memo holds', () => {
    for (let round = 0; round < 2; round++) {
      expect(usdToNano(0.15)).toBe(150_000_000n);
      for (let cents = 0; cents < 5_000; cents++)
        expect(usdToNano(cents / 100)).toBe(BigInt(cents) * 10_000_000n);
      expect(() => usdToNano(-1)).toThrow(RangeError);
      expect(() => usdToNano(Number.NaN)).toThrow(RangeError);
    }
  });

  it('prices input, cached input and output tokens in integers', () => {
    const price = { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 };
    // 1000 in (200 cached) + 500 out = 800*150 + 200*75 + 500*600 nano
    expect(costNanoUsd(price, { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 500 })).toBe(
      120_000n + 15_000n + 300_000n,
    );
    expect(costNanoUsd(null, { inputTokens: 10, outputTokens: 10 })).toBe(0n);
  });

  it('adds inputImages × perImage, exactly, and nothing when either is zero or absent', () => {
    const price = { inputPerMTok: 0.15, outputPerMTok: 0.6, perImage: 0.001275 };
    const tokens = { inputTokens: 1000, outputTokens: 500 };
    const tokensOnly = 150_000n + 300_000n;
    expect(costNanoUsd(price, { ...tokens, inputImages: 3 })).toBe(tokensOnly + 3n * 1_275_000n);
    expect(costNanoUsd(price, { ...tokens, inputImages: 0 })).toBe(tokensOnly);
    expect(costNanoUsd(price, tokens)).toBe(tokensOnly);
    expect(costNanoUsd({ inputPerMTok: 0.15, outputPerMTok: 0.6 }, { ...tokens, inputImages: 3 })).toBe(tokensOnly);
    expect(costNanoUsd({ ...price, perImage: 0 }, { ...tokens, inputImages: 3 })).toBe(tokensOnly);
    expect(costNanoUsd(null, { ...tokens, inputImages: 3 })).toBe(0n);
    // no float drift: 0.1 USD × 7 images is 0.7 USD to the nano
    expect(costNanoUsd({ inputPerMTok: 0, outputPerMTok: 0, perImage: 0.1 }, { inputTokens: 0, outputTokens: 0, inputImages: 7 })).toBe(700_000_000n);
  });

  it('formats nano-USD without floats', () => {
    expect(formatNanoUsd(435_000n)).toBe('0.000435000');
    expect(formatNanoUsd(12_345_000_000_001n)).toBe('12345.000000001');
  });
});
