import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

describe('worker env', () => {
  it('has defaults for a local machine: rollup at minute 5 of every hour, stale days at 20, reconciliation daily at 03:40', () => {
    expect(loadEnv({})).toEqual({
      NATS_URL: 'nats://127.0.0.1:4222',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'gw',
      LOG_LEVEL: 'log',
      ROLLUP_CRON: '5 * * * *',
      DAILY_ROLLUP_CRON: '20 * * * *',
      RECONCILE_CRON: '40 3 * * *',
      RECONCILE_RPC_TIMEOUT_MS: 600_000,
      ROLLUP_ATTEMPTS: 8,
      ROLLUP_BACKOFF_MS: 10_000,
      ROLLUP_RPC_TIMEOUT_MS: 60_000,
      WORKER_LOCK_DURATION_MS: 30_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      BUDGET_ALERT_TIMEOUT_MS: 5_000,
      BUDGET_ALERT_BACKOFF_MS: 1_000,
      BUDGET_ALERT_MAX_BACKOFF_MS: 300_000,
      ALERTS_MAX_AGE_MS: 7 * 86_400_000,
      ALERTS_MAX_MSGS: 1_000_000,
    });
  });

  it('bounds the ALERTS stream: max age at least the 10-minute duplicate window, max messages positive', () => {
    expect(loadEnv({ ALERTS_MAX_AGE_MS: '86400000', ALERTS_MAX_MSGS: '5000' })).toMatchObject({
      ALERTS_MAX_AGE_MS: 86_400_000,
      ALERTS_MAX_MSGS: 5_000,
    });
    expect(() => loadEnv({ ALERTS_MAX_AGE_MS: '60000' })).toThrow(/ALERTS_MAX_AGE_MS: must be at least the duplicate window/);
    expect(() => loadEnv({ ALERTS_MAX_MSGS: '0' })).toThrow(/ALERTS_MAX_MSGS/);
    expect(() => loadEnv({ ALERTS_MAX_AGE_MS: '7 days' })).toThrow(/ALERTS_MAX_AGE_MS/);
  });

  it('takes a budget alert webhook URL; empty means none (docker compose passes an unset variable as empty)', () => {
    expect(loadEnv({ BUDGET_ALERT_WEBHOOK_URL: 'http://hooks.example/x' }).BUDGET_ALERT_WEBHOOK_URL).toBe('http://hooks.example/x');
    expect(loadEnv({ BUDGET_ALERT_WEBHOOK_URL: '' }).BUDGET_ALERT_WEBHOOK_URL).toBeUndefined();
    expect(() => loadEnv({ BUDGET_ALERT_WEBHOOK_URL: 'not a url' })).toThrow(/BUDGET_ALERT_WEBHOOK_URL/);
  });

  it('lists every bad variable at once', () => {
    const bad = { REDIS_URL: 'http://x', REDIS_PREFIX: 'a:b', ROLLUP_CRON: 'hourly', ROLLUP_ATTEMPTS: '0', LOG_LEVEL: 'loud' };
    let message = '';
    try {
      loadEnv(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/worker: bad environment/);
    for (const v of Object.keys(bad)) expect(message).toContain(v);
  });
});
