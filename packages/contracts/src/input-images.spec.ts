import { describe, expect, it } from 'vitest';
import { ChatCompletionRequest } from './chat.js';
import { countInputImages } from './input-images.js';

const image = (url: string) => ({ type: 'image_url', image_url: { url } });
const count = (messages: unknown[]) => countInputImages(ChatCompletionRequest.parse({ model: 'm', messages }).messages);

describe('countInputImages', () => {
  it('counts nothing in text-only requests', () => {
    expect(count([{ role: 'user', content: 'hello' }])).toBe(0);
    expect(count([{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe(0);
    expect(count([{ role: 'assistant', content: null }, { role: 'user', content: 'again' }])).toBe(0);
  });

  it('counts every image_url part of every message, and nothing else', () => {
    expect(
      count([
        { role: 'user', content: [{ type: 'text', text: 'compare' }, image('https://x.test/a.png'), image('data:image/png;base64,AAAA')] },
        { role: 'assistant', content: 'they differ' },
        { role: 'user', content: [image('https://x.test/b.png'), { type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] },
        { role: 'tool', tool_call_id: 't1', content: [image('https://x.test/c.png')] },
      ]),
    ).toBe(4);
  });

  it('counts the same image twice when it is sent twice (each is read, each is billed)', () => {
    expect(count([{ role: 'user', content: [image('https://x.test/a.png'), image('https://x.test/a.png')] }])).toBe(2);
  });
});
