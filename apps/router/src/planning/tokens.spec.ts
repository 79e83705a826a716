import { describe, expect, it } from 'vitest';
import { familyOf, TokenCounter } from './tokens.js';

describe('token counting per model family', () => {
  it('knows the families', () => {
    expect(familyOf('gpt-4o-mini')).toBe('o200k');
    expect(familyOf('o3-mini')).toBe('o200k');
    expect(familyOf('gpt-4-turbo')).toBe('cl100k');
    expect(familyOf('gpt-3.5-turbo')).toBe('cl100k');
    expect(familyOf('claude-3-5-haiku-latest')).toBe('claude');
    expect(familyOf('gemini-2.0-flash')).toBe('gemini');
    expect(familyOf('llama-3.1-8b')).toBe('other');
  });

  it('counts OpenAI families with the real BPE, plus the chat overhead; others by a larger estimate', () => {
    const c = new TokenCounter('hello world', 1);
    expect(c.count('o200k')).toBe(2 + 4 + 3);
    expect(c.count('cl100k')).toBe(2 + 4 + 3);
    expect(c.count('claude')).toBe(Math.ceil(9 * 1.2));
    expect(c.count('other')).toBeGreaterThan(c.count('o200k'));
  });

  it('takes special-token text as plain text', () => {
    expect(new TokenCounter('hi <|endoftext|> there', 1).count('o200k')).toBeGreaterThan(3 + 7);
  });
});
