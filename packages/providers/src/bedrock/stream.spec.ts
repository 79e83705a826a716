import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collect, replayStream, splitRandomly } from '../shared/replay.js';
import { encodeEvent, encodeMessage } from './eventstream.js';
import { adapter } from './index.js';

const ctx = { model: 'us.amazon.nova-micro-v1:0', requestId: 'rq2', created: 1_700_000_321 };
const SEEDS = [1, 2, 3, 42, 1234];

const read = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/bedrock/${name}`, import.meta.url), 'utf8');
/** the raw event-stream body of a pydantic-ai cassette (`!!binary`) */
const capture = (name: string, i = 0) =>
  new Uint8Array(
    (parse(read(name)) as { interactions: Array<{ response: { body: { string: Uint8Array } } }> })
      .interactions[i]!.response.body.string,
  );

/** vercel/ai's decoded chunks (`{"<event-type>": payload}` per line) framed again as a real event stream. */
function reframe(name: string): Uint8Array {
  const frames = read(name)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [type, payload] = Object.entries(JSON.parse(l) as Record<string, unknown>)[0]!;
      return encodeEvent(type, payload);
    });
  return Buffer.concat(frames);
}

describe('bedrock stream translation (real captures, random byte splits)', () => {
  it('binary text capture: role chunk, content, finish stop, usage chunk last, done', () => {
    for (const seed of SEEDS) {
      const r = replayStream(
        adapter.chat,
        ctx,
        splitRandomly(capture('test_bedrock_model_stream.yaml'), seed),
      );
      const all = collect(r.chunks);
      expect(all.content.startsWith('The capital of France is Paris.')).toBe(true);
      expect(all.finish).toBe('stop');
      expect(r.done).toBe(true);
      expect(r.chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
      expect(new Set(r.chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-rq2']));
      expect(r.usage!.prompt_tokens).toBeGreaterThan(0);
      expect(r.usage!.completion_tokens).toBeGreaterThan(0);
      expect(r.chunks.at(-1)).toMatchObject({ choices: [], usage: r.usage });
    }
  });

  it('binary tool capture: a tool call with id, name and argument fragments, finish tool_calls; the second call answers text', () => {
    for (const seed of SEEDS) {
      const r = replayStream(
        adapter.chat,
        ctx,
        splitRandomly(capture('test_bedrock_model_iter_stream.yaml', 0), seed),
      );
      const all = collect(r.chunks);
      expect(all.tools).toHaveLength(1);
      expect(all.tools[0]!.name).toBe('get_temperature');
      expect(all.tools[0]!.id).toMatch(/^tooluse_/);
      expect(JSON.parse(all.tools[0]!.arguments)).toEqual(expect.any(Object));
      expect(all.finish).toBe('tool_calls');
      expect(r.done).toBe(true);
    }
    const second = replayStream(adapter.chat, ctx, [capture('test_bedrock_model_iter_stream.yaml', 1)]);
    expect(collect(second.chunks).content.length).toBeGreaterThan(0);
    expect(collect(second.chunks).finish).toBe('stop');
  });

  it('binary reasoning capture: reasoning_content deltas then content', () => {
    const r = replayStream(
      adapter.chat,
      ctx,
      splitRandomly(capture('test_bedrock_model_thinking_part_stream.yaml'), 7),
    );
    const all = collect(r.chunks);
    expect(all.reasoning.length).toBeGreaterThan(0);
    expect(all.content.length).toBeGreaterThan(0);
    expect(r.done).toBe(true);
  });

  it('vercel/ai text and reasoning chunks, re-framed: the exact text and usage', () => {
    for (const seed of SEEDS) {
      const r = replayStream(
        adapter.chat,
        ctx,
        splitRandomly(reframe('amazon-bedrock-text.chunks.txt'), seed),
      );
      expect(collect(r.chunks).content).toBe(
        'Let me count the "r"s in "strawberry":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y\n\nThere are **3** r\'s in "strawberry."',
      );
      expect(r.usage).toEqual({
        prompt_tokens: 22,
        completion_tokens: 55,
        total_tokens: 77,
        prompt_tokens_details: { cached_tokens: 0 },
      });
    }
    const reasoning = replayStream(adapter.chat, ctx, [reframe('amazon-bedrock-reasoning.chunks.txt')]);
    expect(collect(reasoning.chunks).reasoning.length).toBeGreaterThan(0);
  });

  it('a stream cut before messageStop is not done', () => {
    const bytes = Buffer.concat([
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi' } }),
    ]);
    const r = replayStream(adapter.chat, ctx, [bytes]);
    expect(r.done).toBe(false);
    expect(collect(r.chunks).content).toBe('Hi');
  });

  it('the JSON tool streams as content; a tool without input gets {}; max_tokens → length', () => {
    const bytes = Buffer.concat([
      encodeEvent('messageStart', { role: 'assistant' }),
      encodeEvent('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: 't0', name: 'gw_json_response' } },
      }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"a":' } } }),
      encodeEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '1}' } } }),
      encodeEvent('contentBlockStop', { contentBlockIndex: 0 }),
      encodeEvent('messageStop', { stopReason: 'tool_use' }),
    ]);
    const json = collect(replayStream(adapter.chat, ctx, [bytes]).chunks);
    expect(json).toMatchObject({ content: '{"a":1}', finish: 'stop', tools: [] });
    const noArgs = Buffer.concat([
      encodeEvent('contentBlockStart', {
        contentBlockIndex: 1,
        start: { toolUse: { toolUseId: 't1', name: 'now' } },
      }),
      encodeEvent('contentBlockStop', { contentBlockIndex: 1 }),
      encodeEvent('messageStop', { stopReason: 'max_tokens' }),
    ]);
    const r = collect(replayStream(adapter.chat, ctx, [noArgs]).chunks);
    expect(r.tools).toEqual([{ id: 't1', name: 'now', arguments: '{}' }]);
    expect(r.finish).toBe('length');
  });

  it('exception messages map to GatewayErrors (throttling retryable, validation 400)', () => {
    const ex = (type: string, message: string) =>
      encodeMessage(
        { ':message-type': 'exception', ':exception-type': type, ':content-type': 'application/json' },
        JSON.stringify({ message }),
      );
    expect(() => replayStream(adapter.chat, ctx, [ex('throttlingException', 'Too many requests')])).toThrow(
      expect.objectContaining({ code: 'PROVIDER_RATE_LIMITED', retryable: true }) as Error,
    );
    expect(() => replayStream(adapter.chat, ctx, [ex('validationException', 'bad')])).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', status: 400 }) as Error,
    );
    expect(() => replayStream(adapter.chat, ctx, [ex('modelStreamErrorException', 'x')])).toThrow(
      expect.objectContaining({ code: 'PROVIDER_ERROR', retryable: true }) as Error,
    );
  });
});
