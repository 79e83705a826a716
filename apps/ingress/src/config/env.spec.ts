import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('loadEnv', () => {
  it('applies the defaults', () => {
    const env = loadEnv({ GATEWAY_MASTER_KEY: 'a'.repeat(16) });
    expect(env).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gateway',
      REQUEST_TIMEOUT_MS: 30_000,
      STREAM_IDLE_TIMEOUT_MS: 30_000,
      MAX_BODY_BYTES: 4 * 1024 * 1024,
      CACHE_TIMEOUT_MS: 50,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw',
      KEY_CACHE_TTL_MS: 1000,
    });
  });
  it('lists every bad variable at once', () => {
    expect(() => loadEnv({ PORT: 'x', GATEWAY_MASTER_KEY: 'short', KEY_CACHE_TTL_MS: '5000' })).toThrow(/PORT[\s\S]*GATEWAY_MASTER_KEY[\s\S]*KEY_CACHE_TTL_MS/);
    expect(() => loadEnv({})).toThrow(/GATEWAY_MASTER_KEY/);
  });
});
