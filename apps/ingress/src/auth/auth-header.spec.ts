import { describe, expect, it } from 'vitest';
import { apiKeyFrom, hashKey } from './auth-header.js';
import { TtlCache } from './key-cache.js';


/** A cache (1 s TTL, 10 entries) whose loads wait for `loads.release(value)`; 'k' is already loaded as 'old'. */
async function loadedSlowly(clock: () => number) {
  const cache = new TtlCache<string>(1000, 10, clock);
  const loads: { release?: (v: string) => void } = {};
  const load = () => new Promise<string>((r) => (loads.release = r));
  const first = cache.get('k', load);
  loads.release?.('old');
  expect(await first).toBe('old');
  return { cache, load, loads };
}

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
    now += 749;
    expect(cache.get('k', load)).toBe(1); // synchronous hit, no load
    expect(loads).toBe(1);
    now += 251; // expired (no read came in the refresh window)
    expect(await cache.get('k', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('refreshes a key in use ahead of its expiry, in the background, once', async () => {
    let now = 1_000;
    const cache = new TtlCache<number>(1000, 10, () => now);
    let loads = 0;
    let release: ((v: number) => void) | undefined;
    const load = () => {
      loads++;
      return new Promise<number>((r) => (release = r));
    };
    const first = cache.get('k', load);
    release?.(1);
    expect(await first).toBe(1);
    now += 800; // the last quarter of its life: answered from memory, a load starts
    expect(cache.get('k', load)).toBe(1);
    expect(cache.get('k', load)).toBe(1);
    expect(loads).toBe(2);
    release?.(2);
    await Promise.resolve();
    await Promise.resolve();
    expect(cache.get('k', load)).toBe(2); // replaced, and lives from when its load started
    now += 999;
    expect(cache.get('k', load)).toBe(2);
    expect(loads).toBe(3); // in the refresh window again
  });

  it('never serves an entry past its expiry while its refresh is slow', async () => {
    let now = 1_000;
    const { cache, load, loads } = await loadedSlowly(() => now);
    now += 900;
    expect(cache.get('k', load)).toBe('old'); // refresh started
    now += 100; // expired, the refresh has not answered
    const waiting = cache.get('k', load);
    expect(waiting).toBeInstanceOf(Promise);
    loads.release?.('new');
    expect(await waiting).toBe('new');
  });

  it('a failed refresh leaves the entry to its TTL (no retry per read), then loads again', async () => {
    let now = 1_000;
    const cache = new TtlCache<string>(1000, 10, () => now);
    let loads = 0;
    let fail = false;
    const load = async () => {
      loads++;
      if (fail) throw new Error('db down');
      return `v${loads}`;
    };
    expect(await cache.get('k', load)).toBe('v1');
    fail = true;
    now += 800;
    expect(cache.get('k', load)).toBe('v1');
    await Promise.resolve();
    await Promise.resolve();
    expect(cache.get('k', load)).toBe('v1');
    expect(loads).toBe(2);
    now += 200;
    fail = false;
    expect(await cache.get('k', load)).toBe('v3');
  });

  it('an invalidation during a refresh drops the entry and the refreshed value', async () => {
    let now = 1_000;
    const { cache, load, loads } = await loadedSlowly(() => now);
    now += 800;
    expect(cache.get('k', load)).toBe('old');
    const stale = loads.release;
    cache.delete('k'); // an admin change arrives while the refresh reads the database
    stale?.('stale');
    await Promise.resolve();
    const next = cache.get('k', load);
    expect(next).toBeInstanceOf(Promise);
    loads.release?.('fresh');
    expect(await next).toBe('fresh');
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
