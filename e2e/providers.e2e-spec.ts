import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_FORMAT_MODELS, SIM_FORMAT_PROVIDERS, weather } from './helpers.js';

/**
 * Issue 3: the official openai SDK through the whole gateway to every native provider format of the simulator.
 * The simulator validates each request against the provider's documented schema (400 like the real API when
 * the translation is wrong), so a passing test proves the request translation as well as the answer's.
 */
const CONFIG = `
providers:
${SIM_FORMAT_PROVIDERS}  - id: sim-mistral-strict
    type: mistral
    apiKey: mistral-test
    baseUrl: \${SIMULATOR_ROOT_URL}/mistral/v1
    unsupportedParams: reject
  # a configured id wins over the built-in catalogue entry of the same id (DEEPSEEK_API_KEY is set too)
  - id: deepseek
    type: openai-compatible
    apiKey: configured-deepseek
    baseUrl: \${SIMULATOR_URL}
models:
${SIM_FORMAT_MODELS}`;

/** the catalogue: GROQ_API_KEY alone (its base URL pointed at the simulator) makes `groq/<model>` work */
const ENV = { GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: '${SIMULATOR_URL}', DEEPSEEK_API_KEY: 'env-deepseek' };

const NATIVE_PATH: Record<string, string> = {
  'via-openai': '/v1/chat/completions',
  'via-anthropic': '/v1/messages',
  'via-gemini': '/v1beta/models/gemini-sim:generateContent',
  'via-azure': '/openai/deployments/azure-deploy/chat/completions',
  'via-mistral': '/mistral/v1/chat/completions',
  'via-deepseek': '/deepseek/chat/completions',
  'via-cohere': '/v2/chat',
};
const UPSTREAM_MODEL: Record<string, string> = {
  'via-openai': 'gpt-sim',
  'via-anthropic': 'claude-sim',
  'via-gemini': 'gemini-sim',
  'via-azure': 'azure-deploy',
  'via-mistral': 'mistral-sim',
  'via-deepseek': 'deepseek-sim',
  'via-cohere': 'cohere-sim',
};

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ configYaml: CONFIG, env: ENV });
  const { key } = await stack.createKey();
  client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
});
afterAll(async () => stack?.close());


describe.each(Object.keys(NATIVE_PATH))('%s through the openai SDK', (model) => {
  it('answers a completion with a system prompt and usage', async () => {
    const r = await client.chat.completions.create({
      model,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: `Say hello ${Math.random().toString(36)}` },
      ],
      max_tokens: 64,
      temperature: 0.5,
    });
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
    // the simulator received the provider's native request on its native endpoint
    expect(stack.simulator.stats().lastRequests.map((q) => q.path)).toContain(NATIVE_PATH[model]);
  });

  it('streams text deltas and ends with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Tell me a story' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('calls a forced tool, then takes the tool result back (non-stream and stream)', async () => {
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const r = await client.chat.completions.create({
      model,
      messages: ask,
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const call = r.choices[0]?.message.tool_calls?.[0];
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('no function call');
    expect(call.function.name).toBe('get_weather');
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();

    const stream = await client.chat.completions.create({
      model,
      messages: ask,
      tools: [weather],
      tool_choice: 'required',
      stream: true,
    });
    let name = '';
    let args = '';
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(tc.index).toBe(0);
        name += tc.function?.name ?? '';
        args += tc.function?.arguments ?? '';
      }
    }
    expect(name).toBe('get_weather');
    expect(() => JSON.parse(args) as unknown).not.toThrow();

    const followUp = await client.chat.completions.create({
      model,
      messages: [...ask, r.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"tempC":21}' }],
      tools: [weather],
    });
    expect(followUp.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('maps an upstream 429 to the OpenAI error shape with retry-after', async () => {
    const upstream = UPSTREAM_MODEL[model]!;
    stack.simulator.setFaults([{ match: { model: upstream }, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 }, times: 1 }]);
    const err = await client.chat.completions.create({ model, messages: [{ role: 'user', content: `rate me ${Math.random().toString(36)}` }] }).then(
      () => null,
      (e: unknown) => e,
    );
    stack.simulator.clearFaults();
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(429);
    expect(apiErr.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
    expect(apiErr.headers?.get('retry-after')).toBe('7');
  });
});

describe('provider quirks, the unsupportedParams switch and the built-in catalogue', () => {
  const ask = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content: `${content} ${Math.random().toString(36)}` }];
  type WithReasoning = { reasoning_content?: string | null };

  it('deepseek-reasoner: reasoning_content in the message and as stream deltas before the content', async () => {
    const r = await client.chat.completions.create({ model: 'sim-deepseek/deepseek-reasoner', messages: ask('Think') });
    expect((r.choices[0]!.message as WithReasoning).reasoning_content?.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({ model: 'sim-deepseek/deepseek-reasoner', messages: ask('Think'), stream: true });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      const d: (OpenAI.ChatCompletionChunk.Choice.Delta & WithReasoning) | undefined = chunk.choices[0]?.delta;
      if (d?.reasoning_content) {
        expect(content).toBe('');
        reasoning += d.reasoning_content;
      }
      content += d?.content ?? '';
    }
    expect(reasoning.length).toBeGreaterThan(0);
    expect(content.length).toBeGreaterThan(0);
  });

  it('unsupportedParams: drop sends the request without the parameter; reject answers 400 naming it', async () => {
    // the simulator answers Mistral's 422 if `logprobs` or `user` reached it
    const ok = await client.chat.completions.create({ model: 'sim-mistral/mistral-sim', messages: ask('Hi'), logprobs: true, user: 'u-1' });
    expect(ok.choices[0]!.message.content?.length).toBeGreaterThan(0);
    const err = await client.chat.completions.create({ model: 'sim-mistral-strict/mistral-sim', messages: ask('Hi'), logprobs: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiErr = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiErr.status).toBe(400);
    expect(apiErr.param).toBe('logprobs');
    expect(apiErr.message).toContain('not supported');
  });

  it("Azure's content filter refusing the prompt is an OpenAI-shaped error, not retried", async () => {
    const err = await client.chat.completions.create({ model: 'via-azure', messages: ask('[sim:azure-content-filter]') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(403);
    expect(apiErr.message).toContain('content management policy');
  });

  it('groq/<model> works with only GROQ_API_KEY (its base URL from GROQ_BASE_URL); a configured id wins', async () => {
    stack.simulator.resetStats();
    const r = await client.chat.completions.create({ model: 'groq/sim-small', messages: ask('Hello groq') });
    expect(r.choices[0]!.message.content?.length).toBeGreaterThan(0);
    let seen = stack.simulator.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers['authorization']).toBe('Bearer gsk-test');
    expect((seen.body as { model: string }).model).toBe('sim-small');

    await client.chat.completions.create({ model: 'deepseek/sim-small', messages: ask('Hello configured') });
    seen = stack.simulator.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers['authorization']).toBe('Bearer configured-deepseek');

    const missing = await client.chat.completions.create({ model: 'together/sim-small', messages: ask('no key') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
