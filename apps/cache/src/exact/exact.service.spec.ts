import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadEnv } from '../config/env.js';
import { ExactCache } from '@gw/exact-cache';
import type { Redis } from 'ioredis';
import { ExactService } from './exact.service.js';

/** An in-memory stand-in for Redis (the service's collaborator, not the unit under test): GET and SET … EX. */
class MemoryRedis {
  readonly data = new Map<string, { value: string; ttlSeconds: number }>();
  down = false;
  on(): this {
    return this;
  }
  async get(k: string): Promise<string | null> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.data.get(k)?.value ?? null;
  }
  async set(k: string, value: string, _ex: 'EX', ttlSeconds: number): Promise<'OK'> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    this.data.set(k, { value, ttlSeconds });
    return 'OK';
  }
}

function setup(maxBytes = 16) {
  const repo = new MemoryRedis();
  const env = loadEnv({ REDIS_PREFIX: 'p', CACHE_MAX_VALUE_BYTES: String(maxBytes) });
  return { repo, svc: new ExactService(new ExactCache(repo as unknown as Redis, env.REDIS_PREFIX, env.CACHE_MAX_VALUE_BYTES)) };
}

afterEach(() => vi.restoreAllMocks());

describe('ExactService', () => {
  it('stores under prefix:cache:exact:namespace:key with the ttl and finds it again', async () => {
    const { repo, svc } = setup();
    await svc.store({ namespace: 'team-a', key: 'k1', value: 'v', ttlSeconds: 60 });
    expect([...repo.data.entries()]).toEqual([['p:cache:exact:team-a:k1', { value: 'v', ttlSeconds: 60 }]]);
    expect(await svc.lookup({ namespace: 'team-a', key: 'k1' })).toEqual({ hit: true, value: 'v' });
    expect(await svc.lookup({ namespace: 'team-b', key: 'k1' })).toEqual({ hit: false });
  });

  it('stores a value of exactly the max size and skips one byte more, counting UTF-8 bytes', async () => {
    const { repo, svc } = setup(16);
    await svc.store({ namespace: 'n', key: 'fits', value: 'x'.repeat(16), ttlSeconds: 1 });
    await svc.store({ namespace: 'n', key: 'over', value: 'x'.repeat(17), ttlSeconds: 1 });
    await svc.store({ namespace: 'n', key: 'multibyte', value: 'é'.repeat(9), ttlSeconds: 1 }); // 18 bytes, 9 chars
    expect([...repo.data.keys()]).toEqual(['p:cache:exact:n:fits']);
  });

  it('fails open when Redis is down: misses, dropped stores, one warning for the burst, one on recovery', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const { repo, svc } = setup();
    await svc.store({ namespace: 'n', key: 'k', value: 'v', ttlSeconds: 60 });
    repo.down = true;
    for (let i = 0; i < 50; i++) expect(await svc.lookup({ namespace: 'n', key: 'k' })).toEqual({ hit: false });
    await svc.store({ namespace: 'n', key: 'k2', value: 'v', ttlSeconds: 60 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain('ECONNREFUSED');
    repo.down = false;
    expect(await svc.lookup({ namespace: 'n', key: 'k' })).toEqual({ hit: true, value: 'v' });
    expect(log).toHaveBeenCalledWith('redis (exact cache) recovered after 51 failures');
  });
});
