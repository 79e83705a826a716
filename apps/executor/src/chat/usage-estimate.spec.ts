import { describe, expect, it } from 'vitest';
import { chunkChars, completionChars, estimateTokens, promptChars } from './usage-estimate.js';

describe('usage estimates', () => {
  it('ceil(chars / 4)', () => {
    expect(estimateTokens(0)).toBe(0);
    expect(estimateTokens(1)).toBe(1);
    expect(estimateTokens(8)).toBe(2);
    expect(estimateTokens(9)).toBe(3);
  });
  it('counts prompt text, text parts, tool calls and tool definitions', () => {
    const n = promptChars({
      model: 'm',
      messages: [
        { role: 'system', content: 'abcd' },
        { role: 'user', content: [{ type: 'text', text: 'xy' }, { type: 'image_url', image_url: { url: 'http://i' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'go', description: 'd' } }],
    });
    expect(n).toBe(4 + 2 + 1 + 2 + 2 + 1 + 2);
  });
  it('counts streamed and complete output', () => {
    const chunk = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hey', reasoning_content: 'r', tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }, finish_reason: null }] };
    expect(chunkChars(chunk)).toBe(3 + 1 + 4);
    expect(
      completionChars({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }] }),
    ).toBe(5);
  });
});
