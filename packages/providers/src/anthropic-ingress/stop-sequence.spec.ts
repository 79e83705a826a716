import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STOP_SEQUENCE_FIELD, type ChatCompletion, type ChatCompletionChunk } from '@gw/contracts';
import { parseChatResponse } from '../anthropic/chat.js';
import { AnthropicStreamTranslator } from '../anthropic/stream.js';
import { toAnthropicMessage } from './response.js';
import { AnthropicStreamEncoder, type AnthropicEvent } from './stream.js';

/** stop_reason `stop_sequence` and the matched `stop_sequence` on /v1/messages (docs/adr/0008). */

const ctx = { model: 'claude-x', requestId: 'req1', created: 1_700_000_000 };
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');

type Choice = ChatCompletion['choices'][number];

function completion(finish: Choice['finish_reason'], stop?: string | null): ChatCompletion {
  const choice: Choice = { index: 0, message: { role: 'assistant', content: 'Hello ' }, finish_reason: finish };
  if (stop !== undefined) choice[STOP_SEQUENCE_FIELD] = stop;
  return { id: 'chatcmpl-abc', object: 'chat.completion', created: 1, model: 'm', choices: [choice] };
}

function streamed(finish: Choice['finish_reason'], stop?: string | null): AnthropicEvent[] {
  const base = { id: 'chatcmpl-s1', object: 'chat.completion.chunk' as const, created: 1, model: 'm' };
  const last: ChatCompletionChunk = { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] };
  if (stop !== undefined) last.choices[0]![STOP_SEQUENCE_FIELD] = stop;
  const enc = new AnthropicStreamEncoder('req1', '');
  return [
    ...enc.push({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello ' }, finish_reason: null }] }),
    ...enc.push(last),
    ...enc.end(),
  ];
}

const messageDelta = (events: AnthropicEvent[]) =>
  events.find((e) => e.event === 'message_delta')!.data['delta'] as Record<string, unknown>;

describe('a stop sequence on /v1/messages', () => {
  it('message: the sequence the upstream named; null when it did not say which', () => {
    expect(toAnthropicMessage(completion('stop', '###'))).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '###' });
    expect(toAnthropicMessage(completion('stop', null))).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: null });
  });

  it('message: an upstream that only said "stopped" is end_turn, without a sequence', () => {
    expect(toAnthropicMessage(completion('stop'))).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
    // a damaged cache entry's field is ignored rather than reported
    const odd = completion('stop');
    (odd.choices[0] as Record<string, unknown>)[STOP_SEQUENCE_FIELD] = 42;
    expect(toAnthropicMessage(odd)).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('stream: message_delta says stop_sequence with the sequence, or end_turn with none', () => {
    expect(messageDelta(streamed('stop', 'END'))).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect(messageDelta(streamed('stop', null))).toEqual({ stop_reason: 'stop_sequence', stop_sequence: null });
    expect(messageDelta(streamed('stop'))).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
    expect(messageDelta(streamed('length'))).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
  });

  it('round trip through the Anthropic adapter: a native stop_sequence answer comes back as it was', () => {
    const native = { ...(JSON.parse(fixture('anthropic-text.json')) as Record<string, unknown>), stop_reason: 'stop_sequence', stop_sequence: '###' };
    expect(toAnthropicMessage(parseChatResponse(native, ctx))).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: '###' });

    const tr = new AnthropicStreamTranslator(ctx);
    const enc = new AnthropicStreamEncoder('req1', '');
    const events: AnthropicEvent[] = [];
    for (const line of fixture('anthropic-text.chunks.txt').split('\n').filter((l) => l.trim() !== '')) {
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e['type'] === 'message_delta') e['delta'] = { stop_reason: 'stop_sequence', stop_sequence: '###' };
      for (const c of tr.push({ data: JSON.stringify(e) })) events.push(...enc.push(c));
    }
    events.push(...enc.end());
    expect(messageDelta(events)).toEqual({ stop_reason: 'stop_sequence', stop_sequence: '###' });
  });
});
