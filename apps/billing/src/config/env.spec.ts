import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('billing env', () => {
  it('has defaults for a local machine, the master key is required', () => {
    expect(loadEnv({ GATEWAY_MASTER_KEY: 'dev-master-key-123456' })).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/gateway',
      BILLING_PORT: 8090,
      HOST: '0.0.0.0',
      GATEWAY_MASTER_KEY: 'dev-master-key-123456',
      LOG_LEVEL: 'log',
      USAGE_BATCH_SIZE: 500,
      USAGE_LINGER_MS: 100,
      USAGE_CONCURRENCY: 2,
      DATABASE_POOL_SIZE: 10,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw',
      BUDGET_ALERT_RESEND_MS: 30_000,
    });
  });

  it('lists every bad variable at once', () => {
    const bad = { BILLING_PORT: '70000', DATABASE_URL: 'mysql://x', USAGE_BATCH_SIZE: '0', LOG_LEVEL: 'loud', BUDGET_ALERT_RESEND_MS: '0' };
    let message = '';
    try {
      loadEnv(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/billing: bad environment/);
    for (const v of [...Object.keys(bad), 'GATEWAY_MASTER_KEY']) expect(message).toContain(v);
  });
});
