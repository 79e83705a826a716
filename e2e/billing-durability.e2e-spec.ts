import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { pool, SIM_CONFIG, sql, until } from './helpers.js';

/** Issue 2, done-when 2: billing stopped for 20 s while 500 requests flow → exactly 500 usage rows, none twice. */
describe('usage survives a billing outage', () => {
  let stack: Stack;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack({ configYaml: SIM_CONFIG });
    const { key } = await stack.createKey();
    client = new OpenAI({ apiKey: key, baseURL: `${stack.ingressUrl}/v1`, maxRetries: 0 });
  });
  afterAll(async () => stack?.close());

  it('records every request exactly once after billing comes back', async () => {
    const stoppedAt = Date.now();
    await stack.stop('billing', 'SIGKILL');
    const ids = await pool(500, 16, async (i) => {
      const { data, response } = await client.chat.completions
        .create({ model: 'sim-model', messages: [{ role: 'user', content: `request ${i}` }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBeTruthy();
      return response.headers.get('x-request-id')!;
    });
    expect(new Set(ids).size).toBe(500);
    // keep billing down for 20 s in all
    const left = 20_000 - (Date.now() - stoppedAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    const before = await sql<{ n: string }>(stack.databaseUrl, 'SELECT count(*)::text AS n FROM billing.usage_records');
    expect(before[0]?.n).toBe('0');

    await stack.start('billing');
    await until(
      '500 usage rows',
      async () => {
        const r = await sql<{ n: string }>(stack.databaseUrl, 'SELECT count(*)::text AS n FROM billing.usage_records');
        return r[0]?.n === '500';
      },
      60_000,
    );
    // give a redelivery the chance to double something, then check again
    await new Promise((r) => setTimeout(r, 2_000));
    const rows = await sql<{ n: string; distinct_ids: string; cost: string }>(
      stack.databaseUrl,
      'SELECT count(*)::text AS n, count(DISTINCT request_id)::text AS distinct_ids, sum(cost_nano_usd)::text AS cost FROM billing.usage_records',
    );
    expect(rows[0]).toMatchObject({ n: '500', distinct_ids: '500' });
    expect(BigInt(rows[0]!.cost)).toBeGreaterThan(0n);
    const recorded = await sql<{ request_id: string }>(stack.databaseUrl, 'SELECT request_id FROM billing.usage_records');
    expect(new Set(recorded.map((r) => r.request_id))).toEqual(new Set(ids));
  }, 180_000);
});
