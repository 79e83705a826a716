import { describe, expect, it } from 'vitest';
import { validateConfig } from '@gw/config';
import { GatewayError, type PlanTarget, type ProviderType } from '@gw/contracts';
import { ProviderDirectory } from './provider-directory.js';

const config = validateConfig(
  {
    providers: [
      { id: 'oa', type: 'openai', apiKey: '${KEY}', headers: { 'x-a': '1' } },
      { id: 'local', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1234/v1' },
      { id: 'nobase', type: 'openai-compatible' },
      { id: 'co', type: 'cohere', apiKey: 'k' },
    ],
  },
  { KEY: 'sk-from-env' },
);
// a provider type without an adapter (the schema admits none: built by hand)
const withGap = { ...config, providers: [...config.providers, { ...config.providers[1]!, id: 'gap', type: 'no-such-type' as ProviderType }] };
const t = (providerId: string, baseUrl: string | null = null): PlanTarget => ({ providerId, providerType: 'openai', model: 'm', baseUrl, timeoutMs: 1000, price: null });

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    return e as GatewayError;
  }
  throw new Error('did not throw');
}

describe('ProviderDirectory', () => {
  const dir = new ProviderDirectory(withGap);
  it('resolves credentials and headers from the config; base URL: plan, else config, else the adapter default', () => {
    const oa = dir.resolve(t('oa'));
    expect(oa.provider).toMatchObject({ id: 'oa', apiKey: 'sk-from-env', baseUrl: 'https://api.openai.com/v1', headers: { 'x-a': '1' } });
    expect(dir.resolve(t('local')).provider.baseUrl).toBe('http://127.0.0.1:1234/v1');
    expect(dir.resolve(t('local', 'http://other/v1')).provider.baseUrl).toBe('http://other/v1');
    expect(dir.resolve(t('oa'))).toBe(oa);
  });
  it('a target it cannot call is a retryable failure (the next target may work)', () => {
    for (const id of ['missing', 'nobase', 'gap']) {
      const e = failure(() => dir.resolve(t(id)));
      expect(e).toBeInstanceOf(GatewayError);
      expect(e.retryable).toBe(true);
    }
    expect(dir.withoutAdapter()).toEqual(['gap (no-such-type)']);
  });
  it('passes the provider options and the unsupportedParams switch (default drop) to the adapter', () => {
    const d = new ProviderDirectory(
      validateConfig(
        {
          providers: [
            { id: 'az', type: 'azure-openai', baseUrl: 'https://r.openai.azure.com', apiKey: 'k', options: { apiVersion: '2025-01-01' }, unsupportedParams: 'reject' },
            { id: 'co', type: 'cohere', apiKey: 'k' },
          ],
        },
        {},
      ),
    );
    const az = d.resolve(t('az'));
    expect(az.provider.options).toEqual({ apiVersion: '2025-01-01' });
    expect(az.translate).toEqual({ unsupportedParams: 'reject' });
    expect(az.adapter.type).toBe('azure-openai');
    const co = d.resolve(t('co'));
    expect(co.translate).toEqual({ unsupportedParams: 'drop' });
    expect(co.provider.baseUrl).toBe('https://api.cohere.com');
  });
});

describe('ProviderDirectory: provider options', () => {
  const bedrock = validateConfig(
    {
      providers: [
        { id: 'aws-env', type: 'bedrock' },
        { id: 'aws-cfg', type: 'bedrock', options: { region: 'eu-central-1', accessKeyId: 'AKIACFG', secretAccessKey: 's' } },
        { id: 'aws-none', type: 'bedrock' },
      ],
    },
    {},
  );
  const bt = (providerId: string) => ({ ...t(providerId), providerType: 'bedrock' as const });

  it("options come from the config, completed by the adapter from the environment; the default base URL names the region", () => {
    const env = { AWS_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 'envsecret', AWS_SESSION_TOKEN: 'tok' };
    const dir = new ProviderDirectory(bedrock, env);
    expect(dir.resolve(bt('aws-env')).provider).toMatchObject({
      baseUrl: 'https://bedrock-runtime.us-west-2.amazonaws.com',
      options: { region: 'us-west-2', accessKeyId: 'AKIAENV', secretAccessKey: 'envsecret', sessionToken: 'tok' },
    });
    const cfg = dir.resolve(bt('aws-cfg')).provider;
    expect(cfg.baseUrl).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com');
    expect(cfg.options).toMatchObject({ accessKeyId: 'AKIACFG', secretAccessKey: 's' });
    expect(cfg.options['sessionToken']).toBeUndefined();
  });

  it('without a region there is no default base URL: a retryable failure of that target', () => {
    const e = failure(() => new ProviderDirectory(bedrock, {}).resolve(bt('aws-none')));
    expect(e).toMatchObject({ code: 'INTERNAL', retryable: true });
  });
});
