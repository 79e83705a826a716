import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BEDROCK_TEST_CREDENTIALS, startStack, type Stack } from '@gw/testing';
import { weather } from './helpers.js';

/**
 * Bedrock through the openai SDK: the executor signs every Converse / ConverseStream call with SigV4 (the
 * simulator's test credentials, so the simulator recomputes and checks the signature), decodes the binary event
 * stream, and fetches an image given by URL from a local server (private hosts allowed by this config).
 */
describe('via-bedrock through the openai SDK', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const MODEL = 'anthropic.claude-sim-v1:0';
  let stack: Stack;
  let client: OpenAI;
  let images: Server;
  let imagesUrl: string;

  beforeAll(async () => {
    images = createServer((req, res) => {
      if (req.url === '/cat.png')
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    const config = `
providers:
  - id: sim-bedrock
    type: bedrock
    baseUrl: \${SIMULATOR_ROOT_URL}
    options:
      region: us-east-1
      accessKeyId: ${BEDROCK_TEST_CREDENTIALS.accessKeyId}
      secretAccessKey: ${BEDROCK_TEST_CREDENTIALS.secretAccessKey}
models:
  - name: via-bedrock
    targets: [{ provider: sim-bedrock, model: ${MODEL}, price: { inputPerMTok: 3, outputPerMTok: 15 } }]
images:
  allowPrivateHosts: true
`;
    stack = await startStack({ configYaml: config });
    const { key } = await stack.createKey();
    client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise<void>((resolve) => (images ? images.close(() => resolve()) : resolve()));
  });

  it('answers a completion with a system prompt and usage, over a signed Converse call', async () => {
    stack.simulator.resetStats();
    const r = await client.chat.completions.create({
      model: 'via-bedrock',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: `Say hello ${Math.random().toString(36)}` },
      ],
      max_tokens: 64,
      temperature: 0.5,
    });
    expect(r.choices[0]?.message.content).toContain('Say hello');
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
    const seen = stack.simulator.stats().lastRequests.at(-1)!;
    expect(seen.path).toBe('/model/anthropic.claude-sim-v1%3A0/converse');
    expect(seen.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIASIMULATOR0000001\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
  });

  it('streams text deltas from the event stream and ends with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'via-bedrock',
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
    expect(text).toContain('Tell me a story');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(stack.simulator.stats().lastRequests.at(-1)!.path).toBe(
      '/model/anthropic.claude-sim-v1%3A0/converse-stream',
    );
  });

  it('calls a forced tool (non-stream and stream), then takes the tool result back', async () => {
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const r = await client.chat.completions.create({
      model: 'via-bedrock',
      messages: ask,
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const call = r.choices[0]?.message.tool_calls?.[0];
    expect(r.choices[0]?.finish_reason).toBe('tool_calls');
    if (call?.type !== 'function') throw new Error('no function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Weather in Paris?' });

    const stream = await client.chat.completions.create({
      model: 'via-bedrock',
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
    expect(JSON.parse(args)).toEqual({ city: 'Weather in Paris?' });

    const followUp = await client.chat.completions.create({
      model: 'via-bedrock',
      messages: [
        ...ask,
        r.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: '{"tempC":21}' },
      ],
      tools: [weather],
    });
    expect(followUp.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('an image given by URL is fetched by the gateway and sent to Bedrock as bytes', async () => {
    const r = await client.chat.completions.create({
      model: 'via-bedrock',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `${imagesUrl}/cat.png` } },
          ],
        },
      ],
    });
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const body = stack.simulator.stats().lastRequests.at(-1)!.body as {
      messages: Array<{ content: unknown[] }>;
    };
    expect(body.messages[0]!.content[1]).toEqual({
      image: { format: 'png', source: { bytes: PNG.toString('base64') } },
    });

    const missing = await client.chat.completions
      .create({
        model: 'via-bedrock',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: `${imagesUrl}/nope.png` } }] },
        ],
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('messages[0].content[0]') as string,
    });
  });

  it('maps a ThrottlingException 429 to the OpenAI error shape with retry-after', async () => {
    stack.simulator.setFaults([
      { match: { model: MODEL }, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 }, times: 1 },
    ]);
    const err = await client.chat.completions
      .create({
        model: 'via-bedrock',
        messages: [{ role: 'user', content: `rate me ${Math.random().toString(36)}` }],
      })
      .then(
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
