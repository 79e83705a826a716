import { describe, expect, it } from 'vitest';
import { catalogueProviders, PROVIDER_CATALOGUE } from './catalogue.js';
import { adapterFor, hasAdapter } from './registry.js';

describe('built-in provider catalogue', () => {
  it('knows at least 14 provider ids, each once, each of a type with an adapter and with a base URL or its variable', () => {
    const ids = PROVIDER_CATALOGUE.map((e) => e.id);
    expect(ids.length).toBeGreaterThanOrEqual(14);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of PROVIDER_CATALOGUE) {
      expect(hasAdapter(e.type), e.id).toBe(true);
      expect(e.baseUrlEnv).toMatch(/^[A-Z][A-Z0-9_]*$/);
      if (e.baseUrl) expect(() => new URL(e.baseUrl)).not.toThrow();
    }
    for (const id of [
      'openai',
      'anthropic',
      'gemini',
      'mistral',
      'deepseek',
      'cohere',
      'groq',
      'together',
      'fireworks',
      'openrouter',
      'perplexity',
      'xai',
      'ollama',
      'lmstudio',
      'vllm',
      'azure',
    ]) {
      expect(ids).toContain(id);
    }
  });
  it('native catalogue entries use the adapter default base URL', () => {
    for (const e of PROVIDER_CATALOGUE) {
      const d = adapterFor(e.type).defaultBaseUrl;
      if (d !== null) expect(e.baseUrl, e.id).toBe(d);
    }
  });
  it('an entry joins when its key is set; the base URL variable overrides; a configured id wins', () => {
    expect(catalogueProviders({}, new Set())).toEqual([]);
    const env = {
      GROQ_API_KEY: 'gk',
      COHERE_API_KEY: 'ck',
      COHERE_BASE_URL: 'http://127.0.0.1:9/',
      MISTRAL_API_KEY: '',
    };
    const got = catalogueProviders(env, new Set());
    expect(got).toEqual([
      { id: 'cohere', type: 'cohere', baseUrl: 'http://127.0.0.1:9/', apiKey: 'ck', timeoutMs: 60_000 },
      {
        id: 'groq',
        type: 'openai-compatible',
        baseUrl: 'https://api.groq.com/openai/v1',
        apiKey: 'gk',
        timeoutMs: 60_000,
      },
    ]);
    expect(catalogueProviders(env, new Set(['groq'])).map((p) => p.id)).toEqual(['cohere']);
  });
  it('keyless local servers join only when their base URL is set; azure needs its endpoint and takes its api-version', () => {
    expect(catalogueProviders({ OLLAMA_API_KEY: 'x' }, new Set())).toEqual([]);
    expect(catalogueProviders({ OLLAMA_BASE_URL: 'http://gpu-box:11434/v1' }, new Set())).toEqual([
      { id: 'ollama', type: 'openai-compatible', baseUrl: 'http://gpu-box:11434/v1', timeoutMs: 60_000 },
    ]);
    expect(catalogueProviders({ AZURE_OPENAI_API_KEY: 'k' }, new Set())).toEqual([]);
    expect(
      catalogueProviders(
        {
          AZURE_OPENAI_API_KEY: 'k',
          AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com',
          AZURE_OPENAI_API_VERSION: '2025-01-01',
        },
        new Set(),
      ),
    ).toEqual([
      {
        id: 'azure',
        type: 'azure-openai',
        baseUrl: 'https://r.openai.azure.com',
        apiKey: 'k',
        timeoutMs: 60_000,
        options: { apiVersion: '2025-01-01' },
      },
    ]);
  });
});
