import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_FORMAT_MODELS, SIM_FORMAT_PROVIDERS, sql, until } from './helpers.js';

/**
 * Issue 3: POST /v1/messages through the official @anthropic-ai/sdk, routed to a model of each provider format of
 * the simulator (OpenAI, Anthropic, Gemini, Azure, Mistral, DeepSeek, Cohere, Bedrock). The simulator checks each native request against the provider's schema,
 * so a passing test proves the translation Anthropic → internal → provider and back.
 */
const CONFIG = `
providers:
${SIM_FORMAT_PROVIDERS}models:
${SIM_FORMAT_MODELS}`;

const NATIVE_PATH: Record<string, string> = {
  'via-openai': '/v1/chat/completions',
  'via-anthropic': '/v1/messages',
  'via-gemini': '/v1beta/models/gemini-sim',
  'via-azure': '/openai/deployments/azure-deploy/chat/completions',
  'via-mistral': '/mistral/v1/chat/completions',
  'via-deepseek': '/deepseek/chat/completions',
  'via-cohere': '/v2/chat',
  'via-bedrock': '/model/anthropic.claude-sim-v1%3A0/converse',
};

const weather: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

let stack: Stack;
let key: string;

beforeAll(async () => {
  stack = await startStack({ configYaml: CONFIG });
  key = (await stack.createKey()).key;
});
afterAll(async () => stack?.close());

const rand = () => Math.random().toString(36).slice(2);

describe.each(Object.keys(NATIVE_PATH))('%s through the Anthropic SDK', (model) => {
  let client: Anthropic;
  beforeAll(() => {
    client = new Anthropic({ apiKey: key, baseURL: stack.ingressUrl, maxRetries: 0 });
  });

  it('answers a Message with a system prompt, usage and the gateway headers; usage billed once', async () => {
    const { data: m, response } = await client.messages
      .create({
        model,
        max_tokens: 64,
        system: 'You are terse.',
        messages: [{ role: 'user', content: `Say hello ${rand()}` }],
      })
      .withResponse();
    expect(m.type).toBe('message');
    expect(m.role).toBe('assistant');
    expect(m.id).toMatch(/^msg_/);
    expect(m.content[0]?.type).toBe('text');
    if (m.content[0]?.type === 'text') expect(m.content[0].text.length).toBeGreaterThan(0);
    expect(m.stop_reason).toBe('end_turn');
    expect(m.usage.input_tokens).toBeGreaterThan(0);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(response.headers.get('x-gateway-provider')).toBe(`sim-${model.slice(4)}`);
    // a sampled request: a miss, or bypass where only reproducible requests are cached
    expect(['miss', 'bypass']).toContain(response.headers.get('x-gateway-cache'));
    expect(Number(response.headers.get('x-gateway-overhead-ms'))).toBeGreaterThanOrEqual(0);
    const native = stack.simulator.stats().lastRequests.at(-1)!;
    expect(native.path.startsWith(NATIVE_PATH[model]!)).toBe(true);

    const rows = await until(
      'the usage record',
      async () => {
        const r = await sql<{ input_tokens: number; output_tokens: number }>(
          stack.databaseUrl,
          'SELECT input_tokens, output_tokens FROM billing.usage_records WHERE request_id = $1',
          [requestId],
        );
        return r.length ? r : null;
      },
      15_000,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.output_tokens).toBe(m.usage.output_tokens);
  });

  it('streams the Anthropic event sequence, text deltas and a final stop reason with usage', async () => {
    const stream = await client.messages.create({
      model,
      max_tokens: 128,
      stream: true,
      messages: [{ role: 'user', content: `Tell me a story ${rand()}` }],
    });
    const types: string[] = [];
    let text = '';
    let stop: string | null = null;
    let outputTokens = 0;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
      if (e.type === 'message_delta') {
        stop = e.delta.stop_reason;
        outputTokens = e.usage.output_tokens;
      }
    }
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(text.length).toBeGreaterThan(0);
    expect(stop).toBe('end_turn');
    expect(outputTokens).toBeGreaterThan(0);
  });

  it('calls a forced tool and takes the tool result back (non-stream and stream)', async () => {
    const ask: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const m = await client.messages.create({
      model,
      max_tokens: 256,
      messages: ask,
      tools: [weather],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    expect(m.stop_reason).toBe('tool_use');
    const use = m.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(use?.name).toBe('get_weather');
    expect(typeof use?.input).toBe('object');

    // the SDK's own stream accumulator rebuilds the tool_use block from input_json_delta events
    const streamed = await client.messages
      .stream({ model, max_tokens: 256, messages: ask, tools: [weather], tool_choice: { type: 'any' } })
      .finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    const streamedUse = streamed.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(streamedUse?.name).toBe('get_weather');
    expect(typeof streamedUse?.input).toBe('object');

    const answer = await client.messages.create({
      model,
      max_tokens: 128,
      tools: [weather],
      messages: [
        ...ask,
        { role: 'assistant', content: m.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.id, content: 'Sunny, 24°C' }] },
      ],
    });
    expect(answer.stop_reason).toBe('end_turn');
    expect(answer.content.some((b) => b.type === 'text' && b.text.length > 0)).toBe(true);
  });
});

describe('/v1/messages errors and headers', () => {
  it('a bad key is authentication_error 401, in Anthropic’s shape', async () => {
    const bad = new Anthropic({ apiKey: 'sk-gw-not-a-key', baseURL: stack.ingressUrl, maxRetries: 0 });
    const err = await bad.messages
      .create({ model: 'via-openai', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
  });

  it('a bad request is invalid_request_error 400; an unknown model is not_found_error 404', async () => {
    const client = new Anthropic({ apiKey: key, baseURL: stack.ingressUrl, maxRetries: 0 });
    const noMax = await client.messages
      .create({
        model: 'via-openai',
        messages: [{ role: 'user', content: 'hi' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (noMax as InstanceType<typeof Anthropic.BadRequestError>).error as {
      type: string;
      error: { type: string; message: string };
    };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toMatch(/max_tokens/);

    const unknown = await client.messages
      .create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect((unknown as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
  });

  it('malformed JSON is a 400 in Anthropic’s shape; x-api-key, anthropic-version and x-request-id are honoured', async () => {
    const bad = await fetch(`${stack.ingressUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });

    const ok = await fetch(`${stack.ingressUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': key,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-request-id': `req-${rand()}`,
      },
      body: JSON.stringify({
        model: 'via-openai',
        max_tokens: 20,
        messages: [{ role: 'user', content: `hi ${rand()}` }],
      }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toMatch(/^req-/);
    expect(ok.headers.get('x-gateway-model')).toBeTruthy();
  });
});
