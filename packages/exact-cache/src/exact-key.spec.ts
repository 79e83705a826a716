import { describe, expect, it } from 'vitest';
import { exactKey } from './exact-key.js';

describe('exactKey', () => {
  it('is prefix:cache:exact:namespace:key for team ids and sha256 keys', () => {
    const ns = '0b7c1c9e-3a43-4c7e-9a55-2f0c5d0a6f11';
    const key = 'a'.repeat(64);
    expect(exactKey('gw', ns, key)).toBe(`gw:cache:exact:${ns}:${key}`);
  });

  it('keeps namespaces apart even when a namespace or key contains the separator', () => {
    expect(exactKey('gw', 'a:b', 'c')).not.toBe(exactKey('gw', 'a', 'b:c'));
    expect(exactKey('gw', 'a%3Ab', 'c')).not.toBe(exactKey('gw', 'a:b', 'c'));
  });
});
