import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('moderation env', () => {
  it('has defaults for a local machine and no config file', () => {
    expect(loadEnv({})).toEqual({ NATS_URL: 'nats://127.0.0.1:4222', LOG_LEVEL: 'log' });
  });
  it('lists a bad variable by name', () => {
    expect(() => loadEnv({ LOG_LEVEL: 'chatty' })).toThrow(/moderation: bad environment:\n {2}LOG_LEVEL/);
  });
});
