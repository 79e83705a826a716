import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_FORMAT_MODELS, SIM_FORMAT_PROVIDERS, until } from './helpers.js';

/**
 * A stop sequence that ended the answer, end to end (docs/adr/0008): Anthropic SDK clients of /v1/messages see
 * stop_reason `stop_sequence` and the sequence when the upstream names it (Anthropic; Bedrock with an Anthropic
 * model), in a Message and in a stream; OpenAI SDK clients of /v1/chat/completions see finish_reason `stop` and
 * nothing more, as before. The simulator cuts its reply before the sequence and answers in each provider's format.
 */
const CONFIG = `
providers:
${SIM_FORMAT_PROVIDERS}models:
${SIM_FORMAT_MODELS}`;

/** the gateway-internal field (STOP_SEQUENCE_FIELD) that must never reach an OpenAI client */
const INTERNAL = 'gateway_stop_sequence';
const STOP = '###';

let stack: Stack;
let key: string;
let anthropic: Anthropic;
let openai: OpenAI;

beforeAll(async () => {
  stack = await startStack({ configYaml: CONFIG });
  key = (await stack.createKey()).key;
  anthropic = new Anthropic({ apiKey: key, baseURL: stack.ingressUrl, maxRetries: 0 });
  openai = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
});
afterAll(async () => stack?.close());

const rand = () => Math.random().toString(36).slice(2);
/** the simulator echoes the prompt: its reply stops right before the sequence */
const prompt = () => `Count ${rand()} then ${STOP} and never this`;

async function streamed(model: string, content: string): Promise<{ text: string; stop: unknown; sequence: unknown }> {
  const stream = await anthropic.messages.create({
    model,
    max_tokens: 256,
    stream: true,
    stop_sequences: [STOP],
    messages: [{ role: 'user', content }],
  });
  let text = '';
  let stop: unknown = null;
  let sequence: unknown = undefined;
  for await (const e of stream) {
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    if (e.type === 'message_delta') {
      stop = e.delta.stop_reason;
      sequence = e.delta.stop_sequence;
    }
  }
  return { text, stop, sequence };
}

describe.each(['via-anthropic', 'via-bedrock'])('%s: the matched stop sequence through the Anthropic SDK', (model) => {
  it('a Message says stop_reason stop_sequence and which one', async () => {
    const m = await anthropic.messages.create({
      model,
      max_tokens: 256,
      stop_sequences: ['nowhere', STOP],
      messages: [{ role: 'user', content: prompt() }],
    });
    expect(m.stop_reason).toBe('stop_sequence');
    expect(m.stop_sequence).toBe(STOP);
    const text = m.content[0]?.type === 'text' ? m.content[0].text : '';
    expect(text).toMatch(/then $/);
    expect(text).not.toContain('never');
  });

  it('a stream says it in message_delta', async () => {
    const s = await streamed(model, prompt());
    expect(s).toMatchObject({ stop: 'stop_sequence', sequence: STOP });
    expect(s.text).not.toContain('never');
  });

  it('a stop sequence that does not occur: end_turn, no sequence', async () => {
    const m = await anthropic.messages.create({
      model,
      max_tokens: 256,
      stop_sequences: ['nowhere'],
      messages: [{ role: 'user', content: prompt() }],
    });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.stop_sequence).toBeNull();
  });
});

describe('an upstream that only says "stopped"', () => {
  it('OpenAI-compatible: end_turn even though the client gave stop_sequences', async () => {
    const m = await anthropic.messages.create({
      model: 'via-openai',
      max_tokens: 256,
      stop_sequences: [STOP],
      messages: [{ role: 'user', content: prompt() }],
    });
    expect(m.stop_reason).toBe('end_turn');
    expect(m.stop_sequence).toBeNull();
  });
});

describe.each(['via-anthropic', 'via-bedrock'])('%s: /v1/chat/completions through the OpenAI SDK is unchanged', (model) => {
  it('finish_reason stop and no extra field, answer and stream (parsed and raw bytes)', async () => {
    const params = { model, max_tokens: 256, stop: [STOP], messages: [{ role: 'user' as const, content: prompt() }] };
    const c = await openai.chat.completions.create(params);
    expect(c.choices[0]?.finish_reason).toBe('stop');
    expect(Object.keys(c.choices[0]!)).not.toContain(INTERNAL);
    expect(c.choices[0]?.message.content).not.toContain('never');

    const stream = await openai.chat.completions.create({ ...params, stream: true });
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) {
        expect(Object.keys(ch)).not.toContain(INTERNAL);
        finish = ch.finish_reason ?? finish;
      }
    }
    expect(finish).toBe('stop');

    for (const stream of [false, true]) {
      const res = await fetch(`${stack.ingressUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...params, messages: [{ role: 'user', content: prompt() }], stream }),
      });
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain('"finish_reason":"stop"');
      expect(body).not.toContain(INTERNAL);
    }
  });
});

describe('the cache holds the internal answer: both formats read it their way', () => {
  it('an Anthropic answer served from the cache to its OpenAI twin has no extra field; to Anthropic it keeps the sequence', async () => {
    const content = prompt();
    const first = await anthropic.messages
      .create({ model: 'via-anthropic', max_tokens: 256, stop_sequences: [STOP], messages: [{ role: 'user', content }] })
      .withResponse();
    expect(first.response.headers.get('x-gateway-cache')).toBe('miss');
    const twin = { model: 'via-anthropic', max_tokens: 256, stop: [STOP], messages: [{ role: 'user' as const, content }] };
    const hit = await until(
      'the OpenAI twin to hit the cache',
      async () => {
        const r = await openai.chat.completions.create(twin).withResponse();
        return r.response.headers.get('x-gateway-cache') === 'hit' ? r : null;
      },
      5_000,
      100,
    );
    expect(hit.data.choices[0]?.finish_reason).toBe('stop');
    expect(Object.keys(hit.data.choices[0]!)).not.toContain(INTERNAL);
    const again = await anthropic.messages
      .create({ model: 'via-anthropic', max_tokens: 256, stop_sequences: [STOP], messages: [{ role: 'user', content }] })
      .withResponse();
    expect(again.response.headers.get('x-gateway-cache')).toBe('hit');
    expect(again.data).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: STOP });
  });
});
