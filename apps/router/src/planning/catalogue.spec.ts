import { GatewayConfig } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { Catalogue } from './catalogue.js';

const config = GatewayConfig.parse({
  providers: [
    { id: 'oa', type: 'openai', apiKey: 'k', timeoutMs: 1000 },
    { id: 'local', type: 'openai-compatible', baseUrl: 'http://10.0.0.1:8000/v1' },
  ],
  models: [
    {
      name: 'smart',
      targets: [
        { provider: 'oa', model: 'gpt-4o', price: { inputPerMTok: 2.5, outputPerMTok: 10 } },
        { provider: 'local', model: 'llama' },
      ],
    },
    { name: 'cheap', targets: [{ provider: 'local', model: 'llama-small' }] },
  ],
});

describe('Catalogue', () => {
  const c = new Catalogue(config);

  it('plans a model as its targets in config order, with provider settings and prices', () => {
    const { plan, json } = c.plan('smart');
    expect(plan.targets).toEqual([
      { providerId: 'oa', providerType: 'openai', model: 'gpt-4o', baseUrl: null, timeoutMs: 1000, price: { inputPerMTok: 2.5, outputPerMTok: 10 } },
      { providerId: 'local', providerType: 'openai-compatible', model: 'llama', baseUrl: 'http://10.0.0.1:8000/v1', timeoutMs: 30_000, price: null },
    ]);
    expect(JSON.parse(json)).toEqual(plan);
  });

  it('addresses provider-id/model directly, and refuses an unknown model or provider with MODEL_NOT_FOUND', () => {
    expect(c.plan('local/any-model').plan.targets).toMatchObject([{ providerId: 'local', model: 'any-model' }]);
    expect(() => c.plan('nope')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND', status: 404, param: 'model' }));
    expect(() => c.plan('unknown-provider/x')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
    expect(() => c.plan('local/')).toThrow(expect.objectContaining({ code: 'MODEL_NOT_FOUND' }));
  });

  it('keeps a bounded number of direct plans, whatever clients send', () => {
    const fresh = new Catalogue(config);
    for (let i = 0; i < 10_050; i++) expect(fresh.plan(`local/m${i}`).plan.targets[0]?.model).toBe(`m${i}`);
    expect((fresh as unknown as { direct: Map<string, unknown> }).direct.size).toBeLessThanOrEqual(10_000);
  });

  it('lists every model, or only those a key may use', () => {
    expect(c.list(null)).toEqual([
      { id: 'smart', ownedBy: 'oa' },
      { id: 'cheap', ownedBy: 'local' },
    ]);
    expect(c.list(['cheap'])).toEqual([{ id: 'cheap', ownedBy: 'local' }]);
  });
});
