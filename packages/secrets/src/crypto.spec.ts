import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mask, open, seal } from './index.js';

describe('credential sealing (AES-256-GCM)', () => {
  const key = randomBytes(32);
  it('round-trips, with a fresh IV each time', () => {
    const a = seal(key, 'sk-provider-secret', 'openai');
    const b = seal(key, 'sk-provider-secret', 'openai');
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.toString('utf8')).not.toContain('secret');
    expect(open(key, a, 'openai')).toBe('sk-provider-secret');
  });
  it('refuses a wrong key, altered data, or another provider id', () => {
    const s = seal(key, 'sk-provider-secret', 'openai');
    expect(() => open(randomBytes(32), s, 'openai')).toThrow();
    expect(() => open(key, s, 'anthropic')).toThrow();
    const bad = { ...s, ciphertext: Buffer.from(s.ciphertext) };
    bad.ciphertext[0] = (bad.ciphertext[0] ?? 0) ^ 1;
    expect(() => open(key, bad, 'openai')).toThrow();
  });
  it('masks to the last 4 characters', () => {
    expect(mask('cret')).toBe('…cret');
  });
});
