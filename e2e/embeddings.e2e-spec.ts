import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_FORMAT_PROVIDERS, sql, until } from './helpers.js';

/** POST /v1/embeddings through the official openai SDK: router plan → executor → the simulator's embeddings. */
const CONFIG = `
providers:
${SIM_FORMAT_PROVIDERS}models:
  - name: embed-small
    targets: [{ provider: sim-openai, model: text-embedding-3-small, price: { inputPerMTok: 0.02, outputPerMTok: 0 } }]
  - name: embed-gemini
    targets: [{ provider: sim-gemini, model: text-embedding-004, price: { inputPerMTok: 0.1, outputPerMTok: 0 } }]
  - name: chat-only
    targets: [{ provider: sim-anthropic, model: claude-sim }]
`;

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ configYaml: CONFIG });
  const { key } = await stack.createKey();
  client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
});
afterAll(async () => stack?.close());

describe('embeddings through the openai SDK', () => {
  it('Gemini: a list goes to :batchEmbedContents, one string to :embedContent; counted tokens are billed', async () => {
    const { data: r, response } = await client.embeddings
      .create({ model: 'embed-gemini', input: ['red apple pie', 'red apple tart', 'quantum physics'], dimensions: 48, encoding_format: 'float' })
      .withResponse();
    expect(r.data).toHaveLength(3);
    const [a, b, c] = r.data.map((d) => d.embedding) as [number[], number[], number[]];
    expect(a).toHaveLength(48);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    expect(stack.simulator.stats().lastRequests.at(-1)).toMatchObject({ path: '/v1beta/models/text-embedding-004:batchEmbedContents' });
    expect(response.headers.get('x-gateway-provider')).toBe('sim-gemini');
    const one = await client.embeddings.create({ model: 'embed-gemini', input: 'hello there', encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(stack.simulator.stats().lastRequests.at(-1)).toMatchObject({ path: '/v1beta/models/text-embedding-004:embedContent' });
    const requestId = response.headers.get('x-request-id')!;
    const rows = await until(
      'the Gemini embeddings usage record',
      async () => {
        const q = await sql<{ input_tokens: number; cost_nano_usd: string }>(
          stack.databaseUrl,
          'SELECT input_tokens, cost_nano_usd::text AS cost_nano_usd FROM billing.usage_records WHERE request_id = $1',
          [requestId],
        );
        return q.length ? q : null;
      },
      30_000,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.input_tokens).toBeGreaterThan(0);
  });

  it('embeds a list (the SDK asks for base64 and decodes it), with headers, and bills the input tokens once', async () => {
    const { data: r, response } = await client.embeddings
      .create({
        model: 'embed-small',
        input: ['red apple pie', 'red apple tart', 'quantum physics'],
        dimensions: 64,
      })
      .withResponse();
    expect(r.object).toBe('list');
    expect(r.data).toHaveLength(3);
    const [a, b, c] = r.data.map((d) => d.embedding) as [number[], number[], number[]];
    expect(a).toHaveLength(64);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    expect(stack.simulator.stats().lastRequests.at(-1)).toMatchObject({
      path: '/v1/embeddings',
      body: { model: 'text-embedding-3-small', encoding_format: 'base64' },
    });
    expect(response.headers.get('x-gateway-provider')).toBe('sim-openai');
    expect(response.headers.get('x-gateway-cache')).toBe('bypass');
    const requestId = response.headers.get('x-request-id')!;

    const rows = await until(
      'the usage record',
      async () => {
        const q = await sql<{
          input_tokens: number;
          output_tokens: number;
          cost_nano_usd: string;
          status: string;
        }>(
          stack.databaseUrl,
          'SELECT input_tokens, output_tokens, cost_nano_usd::text, status FROM billing.usage_records WHERE request_id = $1',
          [requestId],
        );
        return q.length ? q : null;
      },
      15_000,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ input_tokens: r.usage.prompt_tokens, output_tokens: 0, status: 'ok' });
    expect(rows[0]!.cost_nano_usd).toBe(String(r.usage.prompt_tokens * 20));
  });

  it('answers floats when asked, for a string and for token arrays', async () => {
    const one = await client.embeddings.create({
      model: 'embed-small',
      input: 'hello world',
      encoding_format: 'float',
      dimensions: 8,
    });
    expect(one.data[0]!.embedding).toHaveLength(8);
    const tokens = await client.embeddings.create({
      model: 'embed-small',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: 'float',
    });
    expect(tokens.data).toHaveLength(2);
  });

  it('bad input is a 400 in the OpenAI shape; a model without embeddings is a clear 400; an unknown model 404', async () => {
    const empty = await client.embeddings
      .create({ model: 'embed-small', input: [] })
      .catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
    expect((empty as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');

    const fmt = await client.embeddings
      .create({ model: 'embed-small', input: 'x', encoding_format: 'hex' as 'float' })
      .catch((e: unknown) => e);
    expect(fmt).toBeInstanceOf(OpenAI.BadRequestError);

    const chatOnly = await client.embeddings
      .create({ model: 'chat-only', input: 'x' })
      .catch((e: unknown) => e);
    expect(chatOnly).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chatOnly as Error).message).toMatch(/does not support embeddings/);

    const unknown = await client.embeddings.create({ model: 'nope', input: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
