import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('cache env', () => {
  it('has defaults for a local machine', () => {
    expect(loadEnv({})).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw',
      LOG_LEVEL: 'log',
      CACHE_MAX_VALUE_BYTES: 1048576,
    });
  });

  it('reads the max value size as a number', () => {
    expect(loadEnv({ CACHE_MAX_VALUE_BYTES: '2048' }).CACHE_MAX_VALUE_BYTES).toBe(2048);
  });

  it('lists every bad variable at once', () => {
    const bad = { REDIS_URL: 'http://x', REDIS_PREFIX: 'a:b', CACHE_MAX_VALUE_BYTES: '-1', LOG_LEVEL: 'loud' };
    expect(() => loadEnv(bad)).toThrow(/cache: bad environment/);
    let message = '';
    try {
      loadEnv(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const v of Object.keys(bad)) expect(message).toContain(v);
  });
});
