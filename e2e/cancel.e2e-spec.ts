import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '@gw/testing';
import { SIM_CONFIG, sql, until } from './helpers.js';

/** Issue 2, done-when 4: the client hangs up mid-stream → the upstream call is aborted within 1 s, and the partial usage is billed. */
describe('client disconnect mid-stream', () => {
  let stack: Stack;
  let key: string;

  beforeAll(async () => {
    stack = await startStack({ configYaml: SIM_CONFIG });
    ({ key } = await stack.createKey());
  });
  afterAll(async () => stack?.close());

  it('aborts the upstream call and records the partial usage', async () => {
    // a slow stream: 200 chunks, 50 ms apart (10 s in all)
    stack.simulator.setFaults([{ match: { model: 'sim-model' }, fault: { kind: 'chunk-delay', ms: 50, chunks: 200 } }]);
    const ac = new AbortController();
    const res = await request(`${stack.ingressUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', stream: true, messages: [{ role: 'user', content: 'long story please' }] }),
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    const requestId = String(res.headers['x-request-id']);
    let received = '';
    for await (const buf of res.body) {
      received += String(buf);
      if ((received.match(/data: /g) ?? []).length >= 10) break;
    }
    const closedAt = Date.now();
    ac.abort();
    res.body.destroy();

    const aborted = await until(
      'the simulator to see the upstream connection closed',
      async () => stack.simulator.stats().aborted.find((a) => a.at >= closedAt - 50),
      5_000,
      20,
    );
    expect(aborted.at - closedAt).toBeLessThan(1_000);

    const row = await until(
      'the usage row of the cut stream',
      async () =>
        (
          await sql<{ status: string; output_tokens: number; input_tokens: number; usage_estimated: boolean }>(
            stack.databaseUrl,
            'SELECT status, output_tokens, input_tokens, usage_estimated FROM billing.usage_records WHERE request_id = $1',
            [requestId],
          )
        )[0],
      20_000,
    );
    expect(row.status).toBe('cancelled');
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.input_tokens).toBeGreaterThan(0);
    stack.simulator.clearFaults();
  });
});
