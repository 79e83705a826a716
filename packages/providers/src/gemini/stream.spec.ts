import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collect, replayStream, splitRandomly } from '../shared/replay.js';
import { adapter } from './index.js';

const ctx = { model: 'gemini-2.5-flash', requestId: 'rq2', created: 1_700_000_321 };
const SEEDS = [1, 2, 3, 42, 1234];

function read(name: string): string {
  return readFileSync(new URL(`../../test/fixtures/google/${name}`, import.meta.url), 'utf8');
}
/** vercel/ai *.chunks.txt with Gemini's real separator (CRLF CRLF) and no [DONE]. */
function wire(name: string): Uint8Array {
  const lines = read(name).split('\n').filter((l) => l.trim() !== '');
  return new TextEncoder().encode(lines.map((l) => `data: ${l}\r\n\r\n`).join(''));
}
function replaySplit(bytes: Uint8Array, seed: number) {
  return replayStream(adapter.chat, ctx, splitRandomly(bytes, seed));
}

describe('gemini stream translation (real captures, random byte splits)', () => {
  it('text: content deltas, stable id, finish stop, final usage, done', () => {
    for (const seed of SEEDS) {
      const r = replaySplit(wire('google-text.chunks.txt'), seed);
      const all = collect(r.chunks);
      expect(all.content).toBe('There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y');
      expect(all.finish).toBe('stop');
      expect(r.done).toBe(true);
      expect(new Set(r.chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-rq2']));
      expect(r.chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
      expect(r.usage).toEqual({ prompt_tokens: 9, completion_tokens: 208, total_tokens: 217, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 185 } });
      expect(r.chunks[r.chunks.length - 1]!.usage).toEqual(r.usage);
    }
  });

  it('function call: one complete tool call chunk, finish tool_calls', () => {
    for (const seed of SEEDS) {
      const r = replaySplit(wire('google-tool-call.chunks.txt'), seed);
      const all = collect(r.chunks);
      expect(all.tools).toEqual([{ id: 'call_rq2_0', name: 'weather', arguments: '{"location":"San Francisco"}' }]);
      expect(all.content).toBe('');
      expect(all.finish).toBe('tool_calls');
      expect(r.done).toBe(true);
    }
  });

  it('reasoning capture', () => {
    const r = replaySplit(wire('google-reasoning.chunks.txt'), 9);
    expect(collect(r.chunks).content).toBe('There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.');
    expect(r.usage!.completion_tokens_details).toEqual({ reasoning_tokens: 256 });
  });

  it('the raw CRLF-framed body of a real stream (pydantic-ai cassette)', () => {
    const doc = parse(read('test_google_model_stream.yaml')) as { interactions: Array<{ response: { body: { string: string } } }> };
    const bytes = new TextEncoder().encode(doc.interactions[0]!.response.body.string);
    for (const seed of SEEDS) {
      const r = replaySplit(bytes, seed);
      expect(collect(r.chunks).content).toBe('The capital of France is Paris.\n');
      expect(r.done).toBe(true);
      expect(r.usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 8, total_tokens: 21 });
    }
  });

  it('a stream without a finishReason is not done', () => {
    const lines = read('google-text.chunks.txt').split('\n').filter((l) => l.trim() !== '').slice(0, 2);
    const r = replayStream(adapter.chat, ctx, [new TextEncoder().encode(lines.map((l) => `data: ${l}\r\n\r\n`).join(''))]);
    expect(r.done).toBe(false);
    expect(collect(r.chunks).finish).toBeNull();
  });

  it('thought parts stream as reasoning_content; two candidates keep their indices; done when both finished', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const a = t.push({ data: JSON.stringify({ candidates: [{ index: 0, content: { parts: [{ text: 'hmm', thought: true }, { text: 'A' }] } }, { index: 1, content: { parts: [{ text: 'B' }] } }] }) });
    expect(collect(a, 0)).toMatchObject({ content: 'A', reasoning: 'hmm' });
    expect(collect(a, 1)).toMatchObject({ content: 'B' });
    t.push({ data: JSON.stringify({ candidates: [{ index: 0, finishReason: 'STOP' }] }) });
    expect(t.done()).toBe(false);
    const end = t.push({ data: JSON.stringify({ candidates: [{ index: 1, finishReason: 'RECITATION' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2 } }) });
    expect(collect(end, 1).finish).toBe('content_filter');
    expect(t.done()).toBe(true);
    expect(t.usage()).toMatchObject({ prompt_tokens: 3, completion_tokens: 2 });
  });

  it('an error event is mapped; a non-JSON event is a PROVIDER_ERROR', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    expect(() => t.push({ data: '{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}' })).toThrow(
      expect.objectContaining({ code: 'PROVIDER_UNAVAILABLE', retryable: true }) as Error,
    );
    expect(() => t.push({ data: '{oops' })).toThrow(expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error);
  });
});
