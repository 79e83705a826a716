import { describe, expect, it } from 'vitest';
import { canonicalJson, chatCacheKey } from './cache-key.js';

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([undefined, null, 'x'])).toBe('[null,null,"x"]');
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
  });
});


describe('chatCacheKey', () => {
  it('is a sha256 hex', () => {
    expect(chatCacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });
  it('ignores key order and fields that do not change the answer', () => {
    const reordered = { temperature: 0, messages: [{ content: 'hi', role: 'user' }], model: 'gpt-4o-mini' };
    expect(chatCacheKey(reordered)).toBe(chatCacheKey(base));
    expect(chatCacheKey({ ...base, user: 'alice', stream: false, metadata: { x: 1 } })).toBe(chatCacheKey(base));
  });
  it('treats null like absent', () => {
    expect(chatCacheKey({ ...base, seed: null })).toBe(chatCacheKey(base));
  });
  it('changes with every field that changes the answer', () => {
    const k = chatCacheKey(base);
    expect(chatCacheKey({ ...base, model: 'other' })).not.toBe(k);
    expect(chatCacheKey({ ...base, messages: [{ role: 'user', content: 'hi!' }] })).not.toBe(k);
    expect(chatCacheKey({ ...base, temperature: 1 })).not.toBe(k);
    expect(chatCacheKey({ ...base, max_tokens: 5 })).not.toBe(k);
    expect(chatCacheKey({ ...base, seed: 1 })).not.toBe(k);
    expect(chatCacheKey({ ...base, stop: ['x'] })).not.toBe(k);
    expect(chatCacheKey({ ...base, response_format: { type: 'json_object' } })).not.toBe(k);
    expect(chatCacheKey({ ...base, tools: [{ type: 'function', function: { name: 'f' } }] })).not.toBe(k);
  });
});
