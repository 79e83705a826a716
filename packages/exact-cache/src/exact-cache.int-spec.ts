import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactKey } from './exact-key.js';
import { ExactCache, fitsExactCache } from './exact-cache.js';
import { createRedis } from './redis.js';

/* Against the real Redis, under a prefix of this file's own (the Redis is shared with other suites). */
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `gwtest${randomBytes(4).toString('hex')}`;
let redis: Redis;
let reader: ExactCache;

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  reader = new ExactCache(createRedis(REDIS_URL, { commandTimeoutMs: 200 }), prefix, 16);
  await reader.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await reader.close();
});

describe('ExactCache', () => {
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
    const down = new ExactCache(createRedis('redis://127.0.0.1:1', { commandTimeoutMs: 200 }), prefix);
    const errors: Error[] = [];
    down.onConnectionError((e) => errors.push(e));
    await down.connect();
    const t0 = Date.now();
    await expect(down.get('team-a', 'k1')).rejects.toThrow();
    await expect(down.set('team-a', 'k1', 'v', 60)).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(200);
    expect(errors.length).toBeGreaterThan(0);
    await down.close();
  });

  it('stores with the TTL under the shared key layout, and skips a value over the size limit (UTF-8 bytes)', async () => {
    expect(await reader.set('team-s', 'k', 'x'.repeat(16), 60)).toBe(true);
    expect(await redis.get(exactKey(prefix, 'team-s', 'k'))).toBe('x'.repeat(16));
    const ttl = await redis.ttl(exactKey(prefix, 'team-s', 'k'));
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await reader.set('team-s', 'over', 'x'.repeat(17), 60)).toBe(false);
    expect(await reader.set('team-s', 'multibyte', 'é'.repeat(9), 60)).toBe(false); // 18 bytes in 9 characters
    expect(await redis.exists(exactKey(prefix, 'team-s', 'over'), exactKey(prefix, 'team-s', 'multibyte'))).toBe(0);
    expect(await reader.get('team-s', 'k')).toBe('x'.repeat(16));
  });
});

describe('fitsExactCache', () => {
  it('counts UTF-8 bytes, not characters', () => {
    expect(fitsExactCache('x'.repeat(16), 16)).toBe(true);
    expect(fitsExactCache('x'.repeat(17), 16)).toBe(false);
    expect(fitsExactCache('é'.repeat(8), 16)).toBe(true);
    expect(fitsExactCache('é'.repeat(9), 16)).toBe(false);
    expect(fitsExactCache('😀'.repeat(4), 16)).toBe(true);
  });
});

describe('ExactCache with a separate auto-pipelining writer', () => {
  it('writes through the writer, reads through the reader, and closes both', async () => {
    const split = new ExactCache(createRedis(REDIS_URL), prefix, 1024, createRedis(REDIS_URL, { autoPipelining: true }));
    await split.connect();
    await Promise.all(['a', 'b', 'c'].map((k) => split.set('team-w', k, `v-${k}`, 60)));
    expect(await Promise.all(['a', 'b', 'c'].map((k) => split.get('team-w', k)))).toEqual(['v-a', 'v-b', 'v-c']);
    await split.close();
    await expect(split.get('team-w', 'a')).rejects.toThrow();
    await expect(split.set('team-w', 'a', 'v', 60)).rejects.toThrow();
  });
});
