import { readFileSync } from 'node:fs';
import { GatewayError, type ChatCompletionChunk } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { StreamEvent } from '../types.js';
import { adapter } from './index.js';
import { OpenAiStreamTranslator, SseDecoder } from './stream.js';

const fixture = (p: string) => readFileSync(new URL(`../../test/fixtures/${p}`, import.meta.url), 'utf8');
const enc = new TextEncoder();
const ctx = { model: 'm', requestId: 'r1', created: 1 };

/** `data: <line>\n\n` per line of a vercel/ai chunks file, then `data: [DONE]` (the README's framing). */
function wire(chunksFile: string, sep = '\n'): string {
  const lines = fixture(chunksFile).split('\n').filter((l) => l.trim().length > 0);
  return lines.map((l) => `data: ${l}${sep}${sep}`).join('') + `data: [DONE]${sep}${sep}`;
}

function decodeIn(text: string, pieceSize: number): StreamEvent[] {
  const bytes = enc.encode(text);
  const d = new SseDecoder();
  const out: StreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) out.push(...d.push(bytes.subarray(i, i + pieceSize)));
  out.push(...d.end());
  return out;
}

function run(text: string, pieceSize = 1024): { chunks: ChatCompletionChunk[]; t: OpenAiStreamTranslator } {
  const t = new OpenAiStreamTranslator(ctx);
  const chunks: ChatCompletionChunk[] = [];
  for (const ev of decodeIn(text, pieceSize)) chunks.push(...t.push(ev));
  chunks.push(...t.finish());
  return { chunks, t };
}

const content = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('SseDecoder', () => {
  it('joins events split across pushes, whatever the split', () => {
    const text = 'data: {"a":1}\n\ndata: {"b":"é€😀"}\n\n';
    for (const size of [1, 2, 3, 5, 7, 100]) {
      expect(decodeIn(text, size)).toEqual([{ data: '{"a":1}' }, { data: '{"b":"é€😀"}' }]);
    }
  });

  it('accepts CRLF and lone CR line ends, also when a CRLF is split between pushes', () => {
    expect(decodeIn('data: x\r\n\r\ndata: y\r\n\r\n', 1)).toEqual([{ data: 'x' }, { data: 'y' }]);
    expect(decodeIn('data: x\r\rdata: y\r\r', 3)).toEqual([{ data: 'x' }, { data: 'y' }]);
    const d = new SseDecoder();
    expect(d.push(enc.encode('data: x\r'))).toEqual([]);
    expect(d.push(enc.encode('\n\r'))).toEqual([{ data: 'x' }]);
    expect(d.push(enc.encode('\ndata: z\r\n\r\n'))).toEqual([{ data: 'z' }]);
  });

  it('skips comments, joins multi-line data, keeps the event name, ignores events without data', () => {
    const text = ': keep-alive\n\nevent: ping\n\nevent: message\ndata: line1\ndata: line2\nid: 7\nretry: 10\n\ndata:no-space\n\n';
    expect(decodeIn(text, 4)).toEqual([{ event: 'message', data: 'line1\nline2' }, { data: 'no-space' }]);
  });

  it('end() hands over a last event that lacks its blank line', () => {
    const d = new SseDecoder();
    expect(d.push(enc.encode('data: [DONE]'))).toEqual([]);
    expect(d.end()).toEqual([{ data: '[DONE]' }]);
  });
});

describe('OpenAiStreamTranslator on real captures', () => {
  it('openai: 302 chunks pass through unchanged, usage tracked, done after [DONE]', () => {
    const lines = fixture('openai/openai-text.chunks.txt').split('\n').filter((l) => l.trim());
    const { chunks, t } = run(wire('openai/openai-text.chunks.txt'), 97);
    expect(chunks).toHaveLength(lines.length);
    expect(chunks[5]).toEqual(JSON.parse(lines[5]!));
    expect(chunks[0]!.model).toBe('gpt-4.1-nano-2025-04-14');
    expect(content(chunks).startsWith('**Holiday')).toBe(true);
    expect(t.usage()).toMatchObject({ prompt_tokens: 16, completion_tokens: 300, total_tokens: 316 });
    expect(t.done()).toBe(true);
  });

  it('openai: the raw SSE of a recorded tool-call stream (real framing)', () => {
    const cassette = parse(fixture('openai/test_run_stream_sync_streams_real_model.yaml')) as {
      interactions: Array<{ response: { body: { string: string }; status: { code: number } } }>;
    };
    const first = cassette.interactions[0]!.response;
    expect(first.status.code).toBe(200);
    const { chunks, t } = run(first.body.string, 13);
    const args = chunks.map((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ country: 'UK' });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    expect(t.usage()?.total_tokens).toBeGreaterThan(0);
    expect(t.done()).toBe(true);
  });

  it('deepseek: usage rides on the last content chunk; CRLF framing', () => {
    const { chunks, t } = run(wire('deepseek/deepseek-text.chunks.txt', '\r\n'), 64);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
    expect(t.usage()).toMatchObject({ prompt_tokens: 13, completion_tokens: 400 });
    expect(content(chunks).length).toBeGreaterThan(100);
    expect(t.done()).toBe(true);
  });

  it('mistral: text and tool call streams', () => {
    const text = run(wire('mistral/mistral-text.chunks.txt'));
    expect(content(text.chunks).startsWith('Hello')).toBe(true);
    const tool = run(wire('mistral/mistral-tool-call.chunks.txt'));
    expect(tool.chunks.some((c) => (c.choices[0]?.delta.tool_calls?.length ?? 0) > 0)).toBe(true);
    expect(tool.t.done()).toBe(true);
  });

  it('a stream cut before [DONE] is not done', () => {
    const full = wire('mistral/mistral-text.chunks.txt');
    const { chunks, t } = run(full.slice(0, full.indexOf('data: [DONE]')));
    expect(chunks.length).toBeGreaterThan(0);
    expect(t.done()).toBe(false);
  });

  it('a malformed event and an error event become GatewayErrors', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    expect(() => t.push({ data: '{"id":"x","choices":[{' })).toThrow(GatewayError);
    let err: unknown;
    try {
      t.push({ data: '{"error":{"message":"overloaded","type":"server_error"}}' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('PROVIDER_ERROR');
    expect((err as GatewayError).retryable).toBe(true);
  });
});
