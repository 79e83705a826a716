import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { until } from './helpers.js';

/** Issue 2, done-when 1: the official openai SDK gets a completion and a stream through the whole gateway. */
describe('chat completions through the official openai SDK', () => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack({
      configYaml: `
providers:
  - id: sim
    type: openai-compatible
    baseUrl: \${SIMULATOR_URL}
    timeoutMs: 5000
models:
  - name: team-model
    targets:
      - provider: sim
        model: sim-large
        price: { inputPerMTok: 1.5, outputPerMTok: 6 }
`,
    });
    const { key } = await stack.createKey();
    client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  });
  afterAll(async () => stack?.close());

  it('answers a completion from the configured model on the simulator', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'team-model', messages: [{ role: 'user', content: 'Say hello' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message.role).toBe('assistant');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-gateway-provider')).toBe('sim');
    expect(response.headers.get('x-gateway-model')).toBe('sim-large');
    expect(Number(response.headers.get('x-gateway-overhead-ms'))).toBeGreaterThanOrEqual(0);
    // the simulator saw the upstream model name, not the alias
    expect(stack.simulator.stats().requestsByModel['sim-large']).toBeGreaterThanOrEqual(1);
  });

  it('streams chunk by chunk and ends with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'team-model',
      messages: [{ role: 'user', content: 'Tell me a story' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('answers an exact repeat from the cache, per tenant, and honours x-gateway-cache: no-cache', async () => {
    // base 36: no long digit run that could pass as a card number (moderation would redact it and skip the cache)
    const params = { model: 'team-model', messages: [{ role: 'user' as const, content: `cache me ${Date.now().toString(36)}` }] };
    const first = await client.chat.completions.create(params).withResponse();
    expect(first.response.headers.get('x-gateway-cache')).toBe('miss');
    const seen = stack.simulator.stats().requests;
    const again = await until(
      'the answer to be cached',
      async () => {
        const r = await client.chat.completions.create(params).withResponse();
        return r.response.headers.get('x-gateway-cache') === 'hit' ? r : null;
      },
      5_000,
      100,
    );
    expect(again.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    const upstreamCalls = stack.simulator.stats().requests - seen;
    const bypass = await client.chat.completions.create(params, { headers: { 'x-gateway-cache': 'no-cache' } }).withResponse();
    expect(bypass.response.headers.get('x-gateway-cache')).toBe('miss');
    expect(stack.simulator.stats().requests - seen).toBe(upstreamCalls + 1);
    // another team (another tenant namespace) never sees this team's entry
    const other = await stack.createKey();
    const otherClient = new OpenAI({ apiKey: other.key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
    const theirs = await otherClient.chat.completions.create(params).withResponse();
    expect(theirs.response.headers.get('x-gateway-cache')).toBe('miss');
  });

  it('lists the models the key may use', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('team-model');
  });

  it('answers errors in the OpenAI format with the right status', async () => {
    const bad = new OpenAI({ apiKey: 'sk-gw-not-a-key', baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'team-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 401,
    });
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 404,
      error: { code: 'model_not_found' },
    });
    await expect(
      client.chat.completions.create({ model: 'team-model', messages: [], temperature: 5 } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('a key limited to other models gets 403', async () => {
    const { key } = await stack.createKey({ models: ['other-model'] });
    const limited = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
    await expect(limited.chat.completions.create({ model: 'team-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 403,
    });
  });
});
