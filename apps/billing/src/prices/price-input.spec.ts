import { GatewayConfig, GatewayError } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { configPrices, CreatePriceBody, parseBody } from './price-input.js';

describe('price input', () => {
  it('USD decimals (strings or numbers) become exact nano-USD', () => {
    const p = parseBody(CreatePriceBody, { providerId: 'p', model: 'm', inputPerMTok: '0.15', outputPerMTok: 0.6, perImage: '0.000000001' }, 'price');
    expect(p).toMatchObject({ inputPerMTok: 150_000_000n, outputPerMTok: 600_000_000n, cachedInputPerMTok: null, perRequest: 0n, perImage: 1n, validTo: null });
    expect(p.validFrom).toBeUndefined();
  });

  it('refuses more than 9 decimals, negatives, unknown fields, naming the field', () => {
    const param = (body: unknown) => {
      try {
        parseBody(CreatePriceBody, body, 'price');
      } catch (err) {
        expect(err).toBeInstanceOf(GatewayError);
        return (err as GatewayError).param;
      }
      throw new Error('accepted');
    };
    expect(param({ providerId: 'p', model: 'm', inputPerMTok: '0.0000000001' })).toBe('inputPerMTok');
    expect(param({ providerId: 'p', model: 'm', outputPerMTok: -1 })).toBe('outputPerMTok');
    expect(param({ providerId: 'p', model: 'm', colour: 1 })).toBe('colour');
    expect(param({ model: 'm' })).toBe('providerId');
  });
});

describe('configPrices', () => {
  it('one price per provider + model; a different price for the same upstream is reported, the first kept', () => {
    const config = GatewayConfig.parse({
      providers: [{ id: 'a', type: 'openai' }],
      models: [
        { name: 'x', targets: [{ provider: 'a', model: 'up', price: { inputPerMTok: 1, outputPerMTok: 2, cachedInputPerMTok: 0.5, perRequest: 0.01 } }] },
        { name: 'y', targets: [{ provider: 'a', model: 'up', price: { inputPerMTok: 9, outputPerMTok: 2 } }, { provider: 'a', model: 'free' }] },
      ],
    });
    const { prices, conflicts } = configPrices(config);
    expect(prices).toEqual([
      { providerId: 'a', model: 'up', inputNanoPerMTok: 1_000_000_000n, outputNanoPerMTok: 2_000_000_000n, cachedInputNanoPerMTok: 500_000_000n, perRequestNano: 10_000_000n, perImageNano: 0n },
    ]);
    expect(conflicts).toEqual(['a/up: model y declares another price; the first one is used']);
  });

  it('carries the config perImage into perImageNano; a perImage that differs is another price', () => {
    const config = GatewayConfig.parse({
      providers: [{ id: 'a', type: 'openai' }],
      models: [
        { name: 'x', targets: [{ provider: 'a', model: 'vision', price: { inputPerMTok: 1, outputPerMTok: 2, perImage: 0.001275 } }] },
        { name: 'y', targets: [{ provider: 'a', model: 'vision', price: { inputPerMTok: 1, outputPerMTok: 2 } }] },
      ],
    });
    const { prices, conflicts } = configPrices(config);
    expect(prices[0]).toMatchObject({ model: 'vision', perImageNano: 1_275_000n });
    expect(conflicts).toEqual(['a/vision: model y declares another price; the first one is used']);
    expect(() => GatewayConfig.parse({ models: [{ name: 'z', targets: [{ provider: 'a', model: 'm', price: { perImage: -0.01 } }] }] })).toThrow(/perImage/);
  });
});
