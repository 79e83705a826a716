import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collect, replayStream, splitRandomly } from '../shared/replay.js';
import { JSON_TOOL } from './chat.js';
import { adapter } from './index.js';

const ctx = { model: 'claude-sonnet-4-5', requestId: 'req9', created: 1_700_000_123 };
const SEEDS = [1, 2, 3, 42, 1234];

function read(name: string): string {
  return readFileSync(new URL(`../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');
}
/** A vercel/ai *.chunks.txt rebuilt as the real wire: `event: <type>` + `data: <json>` + blank line, no [DONE]. */
function wire(name: string): Uint8Array {
  const lines = read(name).split('\n').filter((l) => l.trim() !== '');
  return new TextEncoder().encode(lines.map((l) => `event: ${(JSON.parse(l) as { type: string }).type}\ndata: ${l}\n\n`).join(''));
}
/** The raw SSE body of a pydantic-ai cassette (the true framing, with Anthropic's padding). */
function cassette(name: string): Uint8Array {
  const doc = parse(read(name)) as { interactions: Array<{ response: { body: { string: string } } }> };
  return new TextEncoder().encode(doc.interactions[0]!.response.body.string);
}
function replaySplit(bytes: Uint8Array, seed: number) {
  return replayStream(adapter.chat, ctx, splitRandomly(bytes, seed));
}

describe('anthropic stream translation (real captures, random byte splits)', () => {
  it('text: the deltas add up to the text; stable id; finish stop; usage; done after message_stop', () => {
    for (const seed of SEEDS) {
      const r = replaySplit(wire('anthropic-text.chunks.txt'), seed);
      const all = collect(r.chunks);
      expect(all.content).toBe("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?");
      expect(all.finish).toBe('stop');
      expect(r.done).toBe(true);
      expect(new Set(r.chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-req9']));
      expect(r.chunks.every((c) => c.created === ctx.created && c.object === 'chat.completion.chunk')).toBe(true);
      expect(r.chunks[0]!.choices[0]!.delta.role).toBe('assistant');
      expect(r.usage).toEqual({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42, prompt_tokens_details: { cached_tokens: 0 } });
      const last = r.chunks[r.chunks.length - 1]!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual(r.usage);
    }
  });

  it('tool use without arguments: text, then tool call 0 with its id, name and {} arguments; finish tool_calls', () => {
    for (const seed of SEEDS) {
      const r = replaySplit(wire('anthropic-tool-no-args.chunks.txt'), seed);
      const all = collect(r.chunks);
      expect(all.content).toBe("I'll update the issue list for you.");
      expect(all.tools).toEqual([{ id: 'toolu_01QE1WLsSVp5hy5Q3GmGTmjP', name: 'updateIssueList', arguments: '{}' }]);
      expect(all.finish).toBe('tool_calls');
      expect(r.usage!.completion_tokens).toBe(48);
      expect(r.done).toBe(true);
    }
  });

  it('tool arguments arrive as input_json_delta fragments on the right tool index', () => {
    const r = replaySplit(wire('anthropic-json-tool.1.chunks.txt'), 7);
    const all = collect(r.chunks);
    expect(all.tools).toHaveLength(1);
    expect(all.tools[0]!.name).toBe('json');
    expect(JSON.parse(all.tools[0]!.arguments)).toEqual({ elements: [{ location: 'San Francisco', temperature: 58, condition: 'sunny' }] });
    expect(r.chunks.filter((c) => c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments).every((c) => c.choices[0]!.delta.tool_calls![0]!.index === 0)).toBe(true);
  });

  it('the json_schema fallback tool streams as content with finish stop', () => {
    const text = read('anthropic-json-tool.1.chunks.txt').replace('"name":"json"', `"name":"${JSON_TOOL}"`);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const bytes = new TextEncoder().encode(lines.map((l) => `data: ${l}\n\n`).join(''));
    const all = collect(replaySplit(bytes, 3).chunks);
    expect(all.tools).toEqual([]);
    expect(JSON.parse(all.content)).toEqual({ elements: [{ location: 'San Francisco', temperature: 58, condition: 'sunny' }] });
    expect(all.finish).toBe('stop');
  });

  it('native structured output: 114 text deltas add up to the JSON document', () => {
    const r = replaySplit(wire('anthropic-json-output-format.1.chunks.txt'), 11);
    expect(() => JSON.parse(collect(r.chunks).content) as unknown).not.toThrow();
  });

  it('thinking (raw SSE with padding): reasoning_content, then text; the signature is not content', () => {
    for (const seed of SEEDS) {
      const r = replaySplit(cassette('test_anthropic_model_thinking_part_stream.yaml'), seed);
      const all = collect(r.chunks);
      expect(all.reasoning.startsWith('This is a straightforward question about pedestrian safety.')).toBe(true);
      expect(all.content.startsWith('Here are the basic')).toBe(true);
      expect(all.content).not.toContain('EvMCCkYICxgC');
      expect(all.finish).toBe('stop');
      expect(r.done).toBe(true);
      expect(r.usage!.prompt_tokens).toBe(43);
    }
  });

  it('a stream cut before message_stop is not done', () => {
    const text = new TextDecoder().decode(wire('anthropic-text.chunks.txt'));
    const cut = new TextEncoder().encode(text.slice(0, text.indexOf('event: message_stop')));
    const r = replayStream(adapter.chat, ctx, splitRandomly(cut, 5));
    expect(collect(r.chunks).finish).toBe('stop');
    expect(r.done).toBe(false);
  });

  it('an error event becomes the mapped GatewayError', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    expect(() => t.push({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' })).toThrow(
      expect.objectContaining({ code: 'PROVIDER_UNAVAILABLE', retryable: true }) as Error,
    );
    expect(() => t.push({ data: 'not json' })).toThrow(expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error);
  });

  it('two tool calls get OpenAI indices 0 and 1 whatever the Anthropic block index', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const events = [
      { type: 'message_start', message: { model: 'c', usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'a', name: 'f', input: {} } },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'b', name: 'g', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"y":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":1}' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '2}' } },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } },
      { type: 'message_stop' },
    ];
    const chunks = events.flatMap((e) => t.push({ event: e.type, data: JSON.stringify(e) }));
    const all = collect(chunks);
    expect(all.tools).toEqual([
      { id: 'a', name: 'f', arguments: '{"x":1}' },
      { id: 'b', name: 'g', arguments: '{"y":2}' },
    ]);
    expect(t.usage()).toMatchObject({ prompt_tokens: 5, completion_tokens: 9 });
  });
});
