import { describe, expect, it } from 'vitest';
import { builtinConfig, ConfigError, parseConfigText, withCatalogue } from './load.js';

const yaml = `
providers:
  - id: groq
    type: openai-compatible
    baseUrl: http://127.0.0.1:1/v1
    apiKey: configured
    unsupportedParams: reject
    options: { note: x }
models:
  - name: fast
    targets: [{ provider: groq, model: llama }]
`;

describe('config: provider options, unsupportedParams and the built-in catalogue', () => {
  it('unsupportedParams defaults to drop; options and reject are read from the YAML; a wrong value is listed', () => {
    const c = parseConfigText(yaml, {});
    expect(c.providers[0]).toMatchObject({ unsupportedParams: 'reject', options: { note: 'x' } });
    expect(builtinConfig({}).providers[0]!.unsupportedParams).toBe('drop');
    expect(() => parseConfigText(yaml.replace('reject', 'explode'), {})).toThrow(ConfigError);
  });
  it('catalogue providers join from the environment; a configured id wins', () => {
    const c = withCatalogue(parseConfigText(yaml, {}), { GROQ_API_KEY: 'env-key', DEEPSEEK_API_KEY: 'dk' });
    expect(c.providers.map((p) => p.id)).toEqual(['groq', 'deepseek']);
    expect(c.providers[0]!.apiKey).toBe('configured');
    expect(c.providers[1]).toMatchObject({
      type: 'deepseek',
      baseUrl: 'https://api.deepseek.com',
      apiKey: 'dk',
      unsupportedParams: 'drop',
    });
  });
  it('a bad base URL from the environment is a config error naming the provider', () => {
    let err: unknown;
    try {
      withCatalogue(builtinConfig({}), { GROQ_API_KEY: 'k', GROQ_BASE_URL: 'not a url' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0]).toContain('catalogue provider groq');
  });
});
