import { describe, expect, it } from 'vitest';
import { allowedModels } from '../auth/identity.js';
import { testIdentity } from '../testing/identity.js';
import { TtlCache } from '../auth/key-cache.js';
import { rateScopes } from './limits.service.js';
import { Pricing } from './pricing.js';

const identity = testIdentity;

describe('rateScopes', () => {
  it('has no scope when nothing is limited (no Redis call at all)', () => {
    expect(rateScopes(identity(), 'm')).toEqual([]);
  });
  it('key, team, and the per-model limits of the requested model only', () => {
    const scopes = rateScopes(
      identity({
        keyLimits: {
          rpm: 10,
          tpm: null,
          maxConcurrent: 2,
          modelLimits: { m: { tpm: 500 }, other: { rpm: 1 } },
        },
        teamLimits: { rpm: null, tpm: 1000, maxConcurrent: null, modelLimits: {} },
      }),
      'm',
    );
    expect(scopes).toEqual([
      { name: 'key:k1', rpm: 10, tpm: null, concurrent: 2 },
      { name: 'key:k1:model:m', rpm: null, tpm: 500, concurrent: null },
      { name: 'team:t1', rpm: null, tpm: 1000, concurrent: null },
    ]);
  });
});

describe('allowedModels', () => {
  it('is the intersection; an empty list allows everything', () => {
    expect(allowedModels([], [])).toBeNull();
    expect(allowedModels(['a'], [])).toEqual(['a']);
    expect(allowedModels([], ['b'])).toEqual(['b']);
    expect(allowedModels(['a', 'b'], ['b', 'c'])).toEqual(['b']);
    expect(allowedModels(['a'], ['c'])).toEqual([]);
  });
});

describe('Pricing', () => {
  const p = new Pricing([
    {
      name: 'smart',
      maxOutputTokens: 8192,
      targets: [
        { provider: 'openai', model: 'gpt-4o', price: { inputPerMTok: 2.5, outputPerMTok: 10 } },
        { provider: 'anthropic', model: 'claude', price: { inputPerMTok: 3, outputPerMTok: 15 } },
      ],
    },
  ]);
  it('prices a model name by all its targets, and provider/model by that target', () => {
    expect(p.of('smart')?.prices).toHaveLength(2);
    expect(p.of('smart')?.maxOutputTokens).toBe(8192);
    expect(p.of('openai/gpt-4o')?.prices).toEqual([{ inputPerMTok: 2.5, outputPerMTok: 10 }]);
    expect(p.of('unknown')).toBeNull();
  });
});

describe('TtlCache invalidation', () => {
  it('a load that started before a delete does not store its (stale) result', async () => {
    const cache = new TtlCache<string>(1000);
    let release!: (v: string) => void;
    const stale = cache.get('k', () => new Promise<string>((r) => (release = r)));
    cache.delete('k'); // an admin change arrives while the database read is in flight
    release('old');
    expect(await stale).toBe('old');
    expect(await cache.get('k', async () => 'new')).toBe('new');
  });
});
