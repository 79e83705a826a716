import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('executor env', () => {
  it('has defaults', () => {
    expect(loadEnv({})).toMatchObject({ NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'log', UPSTREAM_CONNECTIONS_PER_ORIGIN: 256 });
  });
  it('lists every bad variable', () => {
    expect(() => loadEnv({ LOG_LEVEL: 'loud', UPSTREAM_CONNECTIONS_PER_ORIGIN: '-1' })).toThrow(/LOG_LEVEL[\s\S]*UPSTREAM_CONNECTIONS_PER_ORIGIN/);
  });
});
