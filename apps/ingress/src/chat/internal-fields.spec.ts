import { describe, expect, it } from 'vitest';
import { STOP_SEQUENCE_FIELD } from '@gw/contracts';
import { openAIChatFormat } from './openai-format.js';

/** OpenAI clients never see the gateway-internal stop-sequence field, and get every other byte as the executor wrote it. */

const bytes = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8');
const text = (out: Uint8Array | string | null) =>
  out === null ? '' : typeof out === 'string' ? out : Buffer.from(out).toString('utf8');

const completion = (choice: Record<string, unknown>) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hé "x" \u2028' }, finish_reason: 'stop', ...choice }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
});
const chunk = (choice: Record<string, unknown>) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: {}, finish_reason: 'stop', ...choice }],
});

describe('the OpenAI format strips the internal stop-sequence field', () => {
  it('non-stream: the answer is the executor JSON without the field, byte for byte', () => {
    for (const v of ['###', null]) {
      const out = text(openAIChatFormat.response(bytes(completion({ [STOP_SEQUENCE_FIELD]: v }))));
      expect(out).toBe(JSON.stringify(completion({})));
    }
  });

  it('answers without the field are the very bytes the executor sent (no parse)', () => {
    const data = bytes(completion({}));
    expect(openAIChatFormat.response(data)).toBe(data);
    // content that merely mentions the name is not a key: untouched
    const mention = bytes(completion({ message: { role: 'assistant', content: `"${STOP_SEQUENCE_FIELD}": 1` } }));
    expect(openAIChatFormat.response(mention)).toBe(mention);
  });

  it('stream: the finish chunk loses the field; other chunks pass as they are', () => {
    const s = openAIChatFormat.stream('r1');
    expect(text(s.chunk(bytes(chunk({ [STOP_SEQUENCE_FIELD]: 'END' }))))).toBe(`data: ${JSON.stringify(chunk({}))}\n\n`);
    const plain = bytes(chunk({ finish_reason: null, delta: { content: 'hi' } }));
    expect(text(s.chunk(plain))).toBe(`data: ${plain.toString('utf8')}\n\n`);
  });

  it('a frame that is not JSON is passed on as it came', () => {
    const broken = Buffer.from(`{"choices":[{"${STOP_SEQUENCE_FIELD}":`, 'utf8');
    expect(openAIChatFormat.response(broken)).toBe(broken);
  });
});
