import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactKey } from './exact-key.js';
import { ExactCacheReader } from './reader.js';
import { createRedis } from './redis.js';

/* Against the real Redis, under a prefix of this file's own (the Redis is shared with other suites). */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest${randomBytes(4).toString('hex')}`;
let redis: Redis;
let reader: ExactCacheReader;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  reader = new ExactCacheReader(createRedis(REDIS_URL, { commandTimeoutMs: 200 }), prefix);
  await reader.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await reader.close();
});

describe('ExactCacheReader', () => {
  it('reads the value the cache service wrote under prefix:cache:exact:namespace:key, and misses as null', async () => {
    const value = JSON.stringify({ id: 'chatcmpl-1', choices: [{ message: { content: 'héllo' } }] });
    await redis.set(`${prefix}:cache:exact:team-a:k1`, value, 'EX', 60);
    expect(await reader.get('team-a', 'k1')).toBe(value);
    expect(await reader.get('team-a', 'k2')).toBeNull();
  });

  it('never crosses namespaces, even with the separator in a namespace or key', async () => {
    await redis.set(exactKey(prefix, 'team-a', 'shared'), 'a', 'EX', 60);
    expect(await reader.get('team-b', 'shared')).toBeNull();
    expect(await reader.get('team-a:shared', '')).toBeNull();
    expect(await reader.get('team', 'a:shared')).toBeNull();
    expect(await reader.get('team-a', 'shared')).toBe('a');
  });

  it('fails fast (no offline queue) when Redis is not there, and reports the connection error', async () => {
    const down = new ExactCacheReader(createRedis('redis://127.0.0.1:1', { commandTimeoutMs: 200 }), prefix);
    const errors: Error[] = [];
    down.onConnectionError((e) => errors.push(e));
    await down.connect();
    const t0 = Date.now();
    await expect(down.get('team-a', 'k1')).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(200);
    expect(errors.length).toBeGreaterThan(0);
    await down.close();
  });
});
