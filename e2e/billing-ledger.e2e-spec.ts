import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costNanoUsd } from '@gw/contracts';
import { startStack, type Stack } from '@gw/testing';
import { SIM_CONFIG, sql, until } from './helpers.js';

/** A model priced per input image (its own upstream model name, so its price is its own row). */
const VISION_PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6, perImage: 0.002 };
const VISION_MODEL = `  - name: sim-vision
    targets:
      - provider: sim
        model: sim-vision
        price: { inputPerMTok: 0.15, outputPerMTok: 0.6, perImage: 0.002 }
`;

/** Issue 6 through the official SDK: the ledger, prices, savings of cache hits, the finance role, the OpenAPI page. */
describe('billing ledger, end to end', () => {
  let stack: Stack;
  let member: { key: string; keyId: string; teamId: string };
  let finance: { key: string; keyId: string; teamId: string };
  let client: OpenAI;

  const billing = async (path: string, key: string, init: { method?: string; body?: unknown } = {}) => {
    const r = await fetch(`${stack.billingUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  type Row = { request_id: string; cost: string; saving: string; input_tokens: number; output_tokens: number; cache_status: string; priced: boolean; stream: boolean };
  const record = async (requestId: string) =>
    until(
      `the usage record of ${requestId}`,
      async () =>
        (
          await sql<Row>(
            stack.databaseUrl,
            `SELECT request_id, cost_nano_usd::text AS cost, saving_nano_usd::text AS saving, input_tokens, output_tokens, cache_status, price_id IS NOT NULL AS priced, stream
               FROM billing.usage_records WHERE request_id = $1`,
            [requestId],
          )
        )[0],
      30_000,
    );

  beforeAll(async () => {
    stack = await startStack({ configYaml: SIM_CONFIG + VISION_MODEL });
    member = await stack.createKey();
    finance = await stack.createKey({ role: 'finance' });
    client = new OpenAI({ apiKey: member.key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  });
  afterAll(async () => stack?.close());

  it('a finance key may not call the models (403) but reads the finance API; a member key gets 403 there', async () => {
    const fin = new OpenAI({ apiKey: finance.key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
    const err = await fin.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((await billing('/billing/v1/spend', finance.key)).status).toBe(200);
    expect((await billing('/billing/v1/spend', member.key)).status).toBe(403);
    expect((await billing('/admin/v1/prices', finance.key)).status).toBe(403);
  });

  it('a request, its cache hit and a stream are billed once each; the hit costs 0 and records its saving; the ledger agrees', async () => {
    const content = `ledger ${randomBytes(6).toString('hex')}`;
    const first = await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content }] }).withResponse();
    const missId = first.response.headers.get('x-request-id')!;
    const miss = await record(missId);
    const hitRes = await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content }] }).withResponse();
    expect(hitRes.response.headers.get('x-gateway-cache')).toBe('hit');
    const hit = await record(hitRes.response.headers.get('x-request-id')!);
    const stream = await client.chat.completions
      .create({ model: 'sim-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `${content} stream` }] })
      .withResponse();
    for await (const chunk of stream.data) void chunk;
    const streamed = await record(stream.response.headers.get('x-request-id')!);

    const price = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
    expect(miss).toMatchObject({ cache_status: 'miss', priced: true, saving: '0' });
    expect(miss.cost).toBe(costNanoUsd(price, { inputTokens: miss.input_tokens, outputTokens: miss.output_tokens }).toString());
    expect(BigInt(miss.cost)).toBeGreaterThan(0n);
    expect(hit).toMatchObject({ cache_status: 'hit', cost: '0', saving: miss.cost, input_tokens: miss.input_tokens, output_tokens: miss.output_tokens });
    expect(streamed.stream).toBe(true);
    expect(streamed.cost).toBe(costNanoUsd(price, { inputTokens: streamed.input_tokens, outputTokens: streamed.output_tokens }).toString());

    const usage = await billing(`/billing/v1/usage?keyId=${member.keyId}`, finance.key);
    expect((usage.body['data'] as unknown[]).length).toBe(3);
    const month = new Date().toISOString().slice(0, 7);
    const cb = await billing(`/billing/v1/chargeback?month=${month}`, finance.key);
    const team = (cb.body['teams'] as Array<{ teamId: string; costNanoUsd: string; ledgerCostUsd: string; costUsd: string; cachedRequests: number }>).find((t) => t.teamId === member.teamId)!;
    expect(BigInt(team.costNanoUsd)).toBe(BigInt(miss.cost) + BigInt(streamed.cost));
    expect(team.ledgerCostUsd).toBe(team.costUsd);
    expect(team.cachedRequests).toBe(1);
    const ledger = await sql<{ n: string; unbalanced: string }>(
      stack.databaseUrl,
      `SELECT count(DISTINCT t.id)::text AS n, count(*) FILTER (WHERE s <> 0)::text AS unbalanced
         FROM billing.ledger_transactions t JOIN (SELECT transaction_id, sum(amount_nano_usd) s FROM billing.ledger_entries GROUP BY 1) e ON e.transaction_id = t.id
        WHERE t.request_id = ANY($1::text[])`,
      [[miss.request_id, hit.request_id, streamed.request_id]],
    );
    expect(ledger[0]).toEqual({ n: '3', unbalanced: '0' });
  });

  it('a price added through the admin API on billing prices the next request', async () => {
    const created = await billing('/admin/v1/prices', stack.masterKey, { method: 'POST', body: { providerId: 'sim', model: 'sim-model', inputPerMTok: '1.5', outputPerMTok: '6' } });
    expect(created.status).toBe(201);
    const res = await client.chat.completions.create({ model: 'sim-model', messages: [{ role: 'user', content: `new price ${randomBytes(6).toString('hex')}` }] }).withResponse();
    const row = await record(res.response.headers.get('x-request-id')!);
    expect(row.cost).toBe(costNanoUsd({ inputPerMTok: 1.5, outputPerMTok: 6 }, { inputTokens: row.input_tokens, outputTokens: row.output_tokens }).toString());
  });

  it('images are charged at the per-image price: the record, the ledger and GET /billing/v1/spend include them', async () => {
    const owner = await stack.createKey();
    const vision = new OpenAI({ apiKey: owner.key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
    const res = await vision.chat.completions
      .create({
        model: 'sim-vision',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: `what differs? ${randomBytes(6).toString('hex')}` },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' } },
              { type: 'image_url', image_url: { url: 'https://images.example/cat.png', detail: 'low' } },
            ],
          },
        ],
      })
      .withResponse();
    const row = await record(res.response.headers.get('x-request-id')!);
    const tokens = { inputTokens: row.input_tokens, outputTokens: row.output_tokens };
    const images = (await sql<{ n: number }>(stack.databaseUrl, `SELECT input_images AS n FROM billing.usage_records WHERE request_id = $1`, [row.request_id]))[0]!.n;
    expect(images).toBe(2);
    expect(row).toMatchObject({ priced: true, cost: costNanoUsd(VISION_PRICE, { ...tokens, inputImages: 2 }).toString() });
    expect(BigInt(row.cost) - costNanoUsd(VISION_PRICE, tokens)).toBe(4_000_000n); // 2 × 0.002 USD

    const spend = await billing(`/billing/v1/spend?groupBy=model&keyId=${owner.keyId}`, finance.key);
    expect(spend.body['data']).toEqual([expect.objectContaining({ group: 'sim-vision', requests: 1, costNanoUsd: row.cost })]);
    const entries = await sql<{ amount: string }>(
      stack.databaseUrl,
      `SELECT e.amount_nano_usd::text AS amount FROM billing.ledger_entries e JOIN billing.ledger_transactions t ON t.id = e.transaction_id
        WHERE t.request_id = $1 ORDER BY e.amount_nano_usd DESC`,
      [row.request_id],
    );
    expect(entries.map((e) => e.amount)).toEqual([row.cost, `-${row.cost}`]);
  });

  it('serves its OpenAPI description at /billing/docs', async () => {
    const page = await fetch(`${stack.billingUrl}/billing/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const spec = (await (await fetch(`${stack.billingUrl}/billing/docs/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toContain('/billing/v1/chargeback');
  });
});
