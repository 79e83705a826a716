import { describe, expect, it } from 'vitest';
import { apiKeyFrom, hashKey } from './auth-header.js';
import { TtlCache } from './key-cache.js';

describe('apiKeyFrom', () => {
  it('reads Authorization: Bearer, any case', () => {
    expect(apiKeyFrom({ authorization: 'Bearer sk-gw-abc' })).toBe('sk-gw-abc');
    expect(apiKeyFrom({ authorization: 'bearer sk-gw-abc ' })).toBe('sk-gw-abc');
    expect(apiKeyFrom({ authorization: 'BEARER sk-gw-abc' })).toBe('sk-gw-abc');
  });
  it('reads x-api-key', () => {
    expect(apiKeyFrom({ 'x-api-key': 'sk-gw-xyz' })).toBe('sk-gw-xyz');
  });
  it('prefers Authorization over x-api-key', () => {
    expect(apiKeyFrom({ authorization: 'Bearer a-key', 'x-api-key': 'b-key' })).toBe('a-key');
  });
  it('returns null for anything else', () => {
    expect(apiKeyFrom({})).toBeNull();
    expect(apiKeyFrom({ authorization: 'Basic dXNlcjpwdw==' })).toBeNull();
    expect(apiKeyFrom({ authorization: 'Bearer ' })).toBeNull();
    expect(apiKeyFrom({ authorization: 'Bearersk-gw-abc' })).toBeNull();
    expect(apiKeyFrom({ 'x-api-key': '  ' })).toBeNull();
    expect(apiKeyFrom({ 'x-api-key': ['a', 'b'] })).toBeNull();
  });
  it('falls back to x-api-key when Authorization is not a bearer token', () => {
    expect(apiKeyFrom({ authorization: 'Basic abc', 'x-api-key': 'k' })).toBe('k');
  });
});

describe('hashKey', () => {
  it('is the sha256 hex of the key', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('TtlCache', () => {
  it('serves from memory within the TTL and reloads after it', async () => {
    let now = 1_000;
    const cache = new TtlCache<number>(1000, 10, () => now);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('k', load)).toBe(1);
    now += 999;
    expect(cache.get('k', load)).toBe(1); // synchronous hit, no load
    now += 1;
    expect(await cache.get('k', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('shares one load between concurrent misses', async () => {
    const cache = new TtlCache<string>(1000);
    let loads = 0;
    let release!: (v: string) => void;
    const load = () => {
      loads++;
      return new Promise<string>((r) => (release = r));
    };
    const a = cache.get('k', load);
    const b = cache.get('k', load);
    release('v');
    expect(await a).toBe('v');
    expect(await b).toBe('v');
    expect(loads).toBe(1);
  });

  it('does not keep a failed load, and forgets on delete', async () => {
    const cache = new TtlCache<string>(1000);
    await expect(cache.get('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('k', async () => 'ok')).toBe('ok');
    cache.delete('k');
    expect(await cache.get('k', async () => 'new')).toBe('new');
  });

  it('with TTL 0 never caches', async () => {
    const cache = new TtlCache<number>(0);
    let n = 0;
    await cache.get('k', async () => ++n);
    await cache.get('k', async () => ++n);
    expect(n).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('stays bounded', async () => {
    let now = 0;
    const cache = new TtlCache<number>(10, 3, () => now);
    for (let i = 0; i < 3; i++) await cache.get(`k${i}`, async () => i);
    now = 100; // all expired
    await cache.get('k9', async () => 9);
    expect(cache.size).toBe(1);
  });
});
