import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk } from '@gw/contracts';
import { parseChatResponse } from '../anthropic/chat.js';
import { AnthropicStreamTranslator } from '../anthropic/stream.js';
import { toAnthropicMessage, toolInput } from './response.js';
import { AnthropicStreamEncoder, type AnthropicEvent } from './stream.js';

const ctx = { model: 'claude-x', requestId: 'req1', created: 1_700_000_000 };
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');

function completion(
  message: ChatCompletion['choices'][number]['message'],
  finish: ChatCompletion['choices'][number]['finish_reason'],
  usage?: ChatCompletion['usage'],
): ChatCompletion {
  const c: ChatCompletion = {
    id: 'chatcmpl-abc',
    object: 'chat.completion',
    created: 1,
    model: 'up-model',
    choices: [{ index: 0, message, finish_reason: finish }],
  };
  if (usage) c.usage = usage;
  return c;
}

function chunk(
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
): ChatCompletionChunk {
  return {
    id: 'chatcmpl-s1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up-model',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}
const usageChunk = (p: number, c: number, cached = 0): ChatCompletionChunk => ({
  id: 'chatcmpl-s1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'up-model',
  choices: [],
  usage: {
    prompt_tokens: p,
    completion_tokens: c,
    total_tokens: p + c,
    prompt_tokens_details: { cached_tokens: cached },
  },
});

/** Rebuilds the message an Anthropic SDK would assemble from the events, checking the sequence as it goes. */
function assemble(events: AnthropicEvent[]): {
  content: Array<Record<string, unknown>>;
  stop: unknown;
  usage: unknown;
  id: unknown;
} {
  expect(events[0]?.event).toBe('message_start');
  expect(events.at(-1)?.event).toBe('message_stop');
  expect(events.at(-2)?.event).toBe('message_delta');
  const content: Array<Record<string, unknown>> = [];
  let open: number | null = null;
  for (const e of events) {
    expect(e.data['type']).toBe(e.event);
    const index = e.data['index'] as number;
    if (e.event === 'content_block_start') {
      expect(open).toBeNull();
      expect(index).toBe(content.length);
      open = index;
      content.push({ ...(e.data['content_block'] as Record<string, unknown>), _json: '' });
    } else if (e.event === 'content_block_delta') {
      expect(index).toBe(open);
      const d = e.data['delta'] as Record<string, string>;
      const b = content[index]!;
      if (d['type'] === 'text_delta') b['text'] = (b['text'] as string) + d['text'];
      else if (d['type'] === 'thinking_delta') b['thinking'] = (b['thinking'] as string) + d['thinking'];
      else if (d['type'] === 'input_json_delta') b['_json'] = (b['_json'] as string) + d['partial_json'];
      else throw new Error(`unexpected delta ${d['type']}`);
    } else if (e.event === 'content_block_stop') {
      expect(index).toBe(open);
      open = null;
    }
  }
  expect(open).toBeNull();
  for (const b of content) {
    if (b['type'] === 'tool_use') b['input'] = toolInput(b['_json'] as string);
    delete b['_json'];
  }
  const delta = events.at(-2)!.data;
  return {
    content,
    stop: (delta['delta'] as Record<string, unknown>)['stop_reason'],
    usage: delta['usage'],
    id: (events[0]!.data['message'] as Record<string, unknown>)['id'],
  };
}

describe('internal completion → Anthropic Message', () => {
  it('text, with usage split into input and cache reads', () => {
    const m = toAnthropicMessage(
      completion({ role: 'assistant', content: 'Hi!' }, 'stop', {
        prompt_tokens: 10,
        completion_tokens: 3,
        total_tokens: 13,
        prompt_tokens_details: { cached_tokens: 4 },
      }),
    );
    expect(m).toEqual({
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'up-model',
      content: [{ type: 'text', text: 'Hi!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 6,
        output_tokens: 3,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('reasoning → a thinking block first; tool calls → tool_use blocks; every finish reason', () => {
    const m = toAnthropicMessage(
      completion(
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'hmm',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            { id: 'call_2', type: 'function', function: { name: 'g', arguments: '' } },
          ],
        },
        'tool_calls',
      ),
    );
    expect(m.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: '' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } },
      { type: 'tool_use', id: 'call_2', name: 'g', input: {} },
    ]);
    expect(m.stop_reason).toBe('tool_use');
    const stop = (f: ChatCompletion['choices'][number]['finish_reason']) =>
      toAnthropicMessage(completion({ role: 'assistant', content: 'x' }, f)).stop_reason;
    expect([stop('stop'), stop('length'), stop('content_filter'), stop(null)]).toEqual([
      'end_turn',
      'max_tokens',
      'refusal',
      'end_turn',
    ]);
    expect(toolInput('not json')).toEqual({ _raw: 'not json' });
  });

  it('round trip of real Anthropic answers: native → internal (provider adapter) → Anthropic again keeps content, stop reason and usage', () => {
    for (const name of ['anthropic-text.json', 'anthropic-tool-no-args.json']) {
      const native = JSON.parse(fixture(name)) as {
        content: Array<Record<string, unknown>>;
        stop_reason: string;
        usage: Record<string, number>;
      };
      const back = toAnthropicMessage(parseChatResponse(native, ctx));
      expect(back.content).toEqual(
        native.content.map((b) =>
          b['type'] === 'text'
            ? { type: 'text', text: b['text'] }
            : { type: 'tool_use', id: b['id'], name: b['name'], input: b['input'] },
        ),
      );
      expect(back.stop_reason).toBe(native.stop_reason);
      expect(back.usage.input_tokens).toBe(native.usage['input_tokens']);
      expect(back.usage.output_tokens).toBe(native.usage['output_tokens']);
    }
  });
});

describe('internal stream → Anthropic SSE events', () => {
  it('text deltas in one text block, then message_delta with stop reason and usage, then message_stop', () => {
    const enc = new AnthropicStreamEncoder('req1', '');
    const events = [
      ...enc.push(chunk({ role: 'assistant', content: '' })),
      ...enc.push(chunk({ content: 'Hel' })),
      ...enc.push(chunk({ content: 'lo' })),
      ...enc.push(chunk({}, 'length')),
      ...enc.push(usageChunk(7, 2, 3)),
      ...enc.end(),
    ];
    const m = assemble(events);
    expect(m.id).toBe('msg_s1');
    expect(m.content).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(m.stop).toBe('max_tokens');
    expect(m.usage).toEqual({
      output_tokens: 2,
      input_tokens: 4,
      cache_read_input_tokens: 3,
      cache_creation_input_tokens: 0,
    });
    expect((events[0]!.data['message'] as Record<string, unknown>)['model']).toBe('up-model');
  });

  it('thinking, then text, then two tool calls with argument fragments, each in its own block', () => {
    const enc = new AnthropicStreamEncoder('req1', 'm');
    const events = [
      ...enc.push(chunk({ role: 'assistant', reasoning_content: 'Let me ' })),
      ...enc.push(chunk({ reasoning_content: 'think.' })),
      ...enc.push(chunk({ content: 'Calling.' })),
      ...enc.push(
        chunk({
          tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }],
        }),
      ),
      ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] })),
      ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] })),
      ...enc.push(
        chunk({
          tool_calls: [
            { index: 1, id: 'call_b', type: 'function', function: { name: 'g', arguments: '{}' } },
          ],
        }),
      ),
      ...enc.push(chunk({}, 'tool_calls')),
      ...enc.end(),
    ];
    const m = assemble(events);
    expect(m.content).toEqual([
      { type: 'thinking', thinking: 'Let me think.', signature: '' },
      { type: 'text', text: 'Calling.' },
      { type: 'tool_use', id: 'call_a', name: 'f', input: { x: 1 } },
      { type: 'tool_use', id: 'call_b', name: 'g', input: {} },
    ]);
    expect(m.stop).toBe('tool_use');
    expect(
      events.map((e) => (e.data['delta'] as Record<string, unknown> | undefined)?.['type']).filter(Boolean),
    ).toContain('input_json_delta');
  });

  it('an empty stream is still a complete message', () => {
    const m = assemble(new AnthropicStreamEncoder('req9', 'm').end());
    expect(m).toMatchObject({ id: 'msg_req9', content: [], stop: 'end_turn' });
  });

  it('round trip of real Anthropic streams: native SSE → internal chunks (provider adapter) → Anthropic events again', () => {
    for (const name of ['anthropic-text.chunks.txt', 'anthropic-tool-no-args.chunks.txt']) {
      const lines = fixture(name)
        .split('\n')
        .filter((l) => l.trim() !== '');
      const tr = new AnthropicStreamTranslator(ctx);
      const enc = new AnthropicStreamEncoder('req1', '');
      const events: AnthropicEvent[] = [];
      for (const line of lines) for (const c of tr.push({ data: line })) events.push(...enc.push(c));
      for (const c of tr.finish()) events.push(...enc.push(c));
      events.push(...enc.end());
      const got = assemble(events);

      // what the native stream itself assembles to
      const want: Array<Record<string, unknown>> = [];
      let stop: unknown = null;
      let usage: Record<string, number> = {};
      for (const line of lines) {
        const e = JSON.parse(line) as Record<string, unknown>;
        if (e['type'] === 'content_block_start')
          want.push({ ...(e['content_block'] as Record<string, unknown>) });
        if (e['type'] === 'content_block_delta') {
          const d = e['delta'] as Record<string, string>;
          const b = want[e['index'] as number]!;
          if (d['type'] === 'text_delta') b['text'] = (b['text'] as string) + d['text'];
          if (d['type'] === 'input_json_delta')
            b['_json'] = ((b['_json'] as string | undefined) ?? '') + d['partial_json'];
        }
        if (e['type'] === 'message_delta') {
          stop = (e['delta'] as Record<string, unknown>)['stop_reason'];
          usage = e['usage'] as Record<string, number>;
        }
      }
      for (const b of want) {
        if (b['type'] === 'tool_use') b['input'] = toolInput((b['_json'] as string | undefined) ?? '');
        delete b['_json'];
      }
      expect(got.content).toEqual(want);
      expect(got.stop).toBe(stop);
      expect(got.usage).toMatchObject({
        output_tokens: usage['output_tokens'],
        input_tokens: usage['input_tokens'],
      });
    }
  });
});
