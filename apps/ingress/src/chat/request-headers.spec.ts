import { describe, expect, it } from 'vitest';
import { cacheDirectiveFrom, requestIdFrom, tagsFrom, traceparentFrom } from './request-headers.js';

describe('request headers', () => {
  it('echoes a sane x-request-id and replaces anything else', () => {
    expect(requestIdFrom('req-123_abc.de:f')).toBe('req-123_abc.de:f');
    expect(requestIdFrom(undefined)).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdFrom('has space')).not.toBe('has space');
    expect(requestIdFrom('x'.repeat(129))).toHaveLength(36);
    expect(requestIdFrom(['a', 'b'])).toHaveLength(36);
  });
  it('keeps a valid traceparent and makes one otherwise', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceparentFrom(tp)).toBe(tp);
    expect(traceparentFrom('garbage')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
  it('makes a fresh, well-formed trace every time, across refills of the random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const tp = traceparentFrom(undefined);
      expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      seen.add(tp);
    }
    expect(seen.size).toBe(1000);
  });
  it('reads x-gateway-cache directives', () => {
    expect(cacheDirectiveFrom(undefined)).toBe('default');
    expect(cacheDirectiveFrom('no-cache')).toBe('no-cache');
    expect(cacheDirectiveFrom('No-Store')).toBe('no-store');
    expect(cacheDirectiveFrom('no-cache, no-store')).toBe('no-cache,no-store');
    expect(cacheDirectiveFrom('whatever')).toBe('default');
  });
  it('parses x-gateway-tags over the key’s tags', () => {
    expect(tagsFrom('team=a, env = prod,bad,=x', { owner: 'k', env: 'dev' })).toEqual({ owner: 'k', env: 'prod', team: 'a' });
    const base = { a: '1' };
    expect(tagsFrom(undefined, base)).toBe(base);
  });
});
