import { STOP_SEQUENCE_FIELD, type ChatCompletionChunk, type ChatCompletionRequest } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { adapter as anthropic } from '../anthropic/index.js';
import { adapter as bedrock } from '../bedrock/index.js';
import { encodeEvent } from '../bedrock/eventstream.js';
import { STOP_SEQUENCE_PATHS } from '../bedrock/stop-sequence.js';
import { BEDROCK_PROVIDER } from '../bedrock/spec-helpers.js';
import { adapter as cohere } from '../cohere/index.js';
import { adapter as gemini } from '../gemini/index.js';
import { adapter as openai } from '../openai-compatible/index.js';
import type { ChatAdapter } from '../types.js';
import { collect, replayStream } from './replay.js';
import { ctx, fixture, translate, wire } from './spec-helpers.js';

/**
 * The gateway-internal stop-sequence field (docs/adr/0008) per adapter, on real captures. No capture ends on a stop
 * sequence, so those answers are the real capture with its stop reason (and sequence) edited as the provider's API
 * reference says it answers them; the unedited captures show that a natural end marks nothing.
 */

const json = (p: string) => JSON.parse(fixture(p)) as Record<string, unknown>;
const finishChoice = (chunks: ChatCompletionChunk[]) => chunks.find((c) => c.choices[0]?.finish_reason)!.choices[0]!;
const marked = (choice: object) => STOP_SEQUENCE_FIELD in choice;

/** a vercel/ai `*.chunks.txt` line edited, the rest of the capture as it is */
function editedLines(file: string, edit: (event: Record<string, unknown>) => void): string[] {
  return fixture(file)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      edit(e);
      return JSON.stringify(e);
    });
}

describe('anthropic: stop_reason stop_sequence names the sequence', () => {
  it('message: finish stop with the matched sequence; end_turn marks nothing', () => {
    const body = { ...json('anthropic/anthropic-text.json'), stop_reason: 'stop_sequence', stop_sequence: '###' };
    const choice = anthropic.chat.parseResponse(body, ctx).choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(choice[STOP_SEQUENCE_FIELD]).toBe('###');
    expect(marked(anthropic.chat.parseResponse(json('anthropic/anthropic-text.json'), ctx).choices[0]!)).toBe(false);
  });
  it('stream: the message_delta finish chunk carries the sequence; end_turn marks nothing', () => {
    const lines = editedLines('anthropic/anthropic-text.chunks.txt', (e) => {
      if (e['type'] === 'message_delta') e['delta'] = { stop_reason: 'stop_sequence', stop_sequence: 'Is there' };
    });
    const sse = lines.map((l) => `event: ${(JSON.parse(l) as { type: string }).type}\ndata: ${l}\n\n`).join('');
    const choice = finishChoice(translate(sse, anthropic.chat.createStreamTranslator(ctx)));
    expect(choice.finish_reason).toBe('stop');
    expect(choice[STOP_SEQUENCE_FIELD]).toBe('Is there');
    const plain = translate(wire('anthropic/anthropic-text.chunks.txt', { eventLines: true }), anthropic.chat.createStreamTranslator(ctx));
    expect(marked(finishChoice(plain))).toBe(false);
  });
});

describe('bedrock: stopReason stop_sequence, the sequence from additionalModelResponseFields', () => {
  const provider = BEDROCK_PROVIDER;
  const build = (req: Partial<ChatCompletionRequest>) => {
    const full = { model: 'b', messages: [{ role: 'user', content: 'hi' }], ...req } as ChatCompletionRequest;
    return JSON.parse(bedrock.chat.buildRequest(full, false, provider, ctx, { unsupportedParams: 'drop' }).body as string) as Record<string, unknown>;
  };

  it('asks for the matched sequence only when the request has stop sequences', () => {
    const body = build({ stop: ['###'] });
    expect(body['inferenceConfig']).toEqual({ stopSequences: ['###'] });
    expect(body['additionalModelResponseFieldPaths']).toEqual(STOP_SEQUENCE_PATHS);
    expect(build({})).not.toHaveProperty('additionalModelResponseFieldPaths');
  });
  it('Converse: the sequence at the top of the fields; without fields (non-Anthropic models) null', () => {
    const capture = json('bedrock/amazon-bedrock-text.json');
    const named = bedrock.chat.parseResponse({ ...capture, stopReason: 'stop_sequence', additionalModelResponseFields: { stop_sequence: '###' } }, ctx);
    expect(named.choices[0]!.finish_reason).toBe('stop');
    expect(named.choices[0]![STOP_SEQUENCE_FIELD]).toBe('###');
    const unnamed = bedrock.chat.parseResponse({ ...capture, stopReason: 'stop_sequence' }, ctx).choices[0]!;
    expect(unnamed[STOP_SEQUENCE_FIELD]).toBeNull();
    expect(marked(bedrock.chat.parseResponse(capture, ctx).choices[0]!)).toBe(false);
  });
  it('ConverseStream: messageStop fields in the delta shape of the real capture; end_turn marks nothing', () => {
    const frames = (edit: (e: Record<string, unknown>) => void) =>
      Buffer.concat(
        editedLines('bedrock/amazon-bedrock-text.chunks.txt', edit).map((l) => {
          const [type, payload] = Object.entries(JSON.parse(l) as Record<string, unknown>)[0]!;
          return encodeEvent(type, payload);
        }),
      );
    const edited = frames((e) => {
      const stop = e['messageStop'] as Record<string, unknown> | undefined;
      if (stop) {
        stop['stopReason'] = 'stop_sequence';
        stop['additionalModelResponseFields'] = { delta: { stop_sequence: 'END' } };
      }
    });
    const r = replayStream(bedrock.chat, ctx, [edited]);
    expect(collect(r.chunks).finish).toBe('stop');
    expect(finishChoice(r.chunks)[STOP_SEQUENCE_FIELD]).toBe('END');
    // the real capture: end_turn with {"delta":{"stop_sequence":null}}
    expect(marked(finishChoice(replayStream(bedrock.chat, ctx, [frames(() => {})]).chunks))).toBe(false);
  });
});

describe('cohere: STOP_SEQUENCE says a sequence matched, not which', () => {
  it('message and stream: marked with null; COMPLETE marks nothing', () => {
    const capture = json('cohere/cohere-text.json');
    expect(cohere.chat.parseResponse({ ...capture, finish_reason: 'STOP_SEQUENCE' }, ctx).choices[0]![STOP_SEQUENCE_FIELD]).toBeNull();
    expect(marked(cohere.chat.parseResponse(capture, ctx).choices[0]!)).toBe(false);
    const lines = editedLines('cohere/cohere-text.chunks.txt', (e) => {
      if (e['type'] === 'message-end') (e['delta'] as Record<string, unknown>)['finish_reason'] = 'STOP_SEQUENCE';
    });
    const sse = lines.map((l) => `event: ${(JSON.parse(l) as { type: string }).type}\ndata: ${l}\n\n`).join('');
    const choice = finishChoice(translate(sse, cohere.chat.createStreamTranslator(ctx)));
    expect(choice.finish_reason).toBe('stop');
    expect(choice[STOP_SEQUENCE_FIELD]).toBeNull();
    expect(marked(finishChoice(translate(wire('cohere/cohere-text.chunks.txt', { eventLines: true }), cohere.chat.createStreamTranslator(ctx))))).toBe(false);
  });
});

describe('upstreams that only say "stopped": nothing is marked', () => {
  const cases: Array<[string, ChatAdapter, string, string, boolean]> = [
    ['gemini', gemini.chat, 'google/google-text.json', 'google/google-text.chunks.txt', false],
    ['openai', openai.chat, 'openai/openai-text.json', 'openai/openai-text.chunks.txt', true],
  ];
  it.each(cases)('%s: finish stop, no stop-sequence field', (_name, chat, message, chunks, done) => {
    const choice = chat.parseResponse(json(message), ctx).choices[0]!;
    expect(choice.finish_reason).toBe('stop');
    expect(marked(choice)).toBe(false);
    const finish = finishChoice(translate(wire(chunks, { done }), chat.createStreamTranslator(ctx)));
    expect(finish.finish_reason).toBe('stop');
    expect(marked(finish)).toBe(false);
  });
});
