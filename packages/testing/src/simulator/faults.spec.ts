import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { SimulatorControl } from './control-client.js';
import { startSimulator } from './server.js';
import type { Fault, Simulator } from './types.js';

let sim: Simulator;
let control: SimulatorControl;
const agent = new Agent({ keepAliveTimeout: 1_000 });

beforeAll(async () => {
  sim = await startSimulator();
  control = new SimulatorControl(`${sim.url}/v1`);
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});
beforeEach(async () => {
  await control.clearFaults();
  await control.resetStats();
});

const body = { model: 'sim-small', messages: [{ role: 'user', content: 'one two three four five' }] };
const streamBody = { ...body, stream: true, stream_options: { include_usage: true } };

function send(b: unknown, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}) {
  return request(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify(b),
    signal: opts.signal,
  });
}

/** Reads a streamed body, noting when each piece arrived. */
async function timedPieces(res: Awaited<ReturnType<typeof send>>): Promise<Array<{ at: number; text: string }>> {
  const out: Array<{ at: number; text: string }> = [];
  for await (const c of res.body) out.push({ at: Date.now(), text: Buffer.from(c as Uint8Array).toString('utf8') });
  return out;
}
function events(text: string): string[] {
  return text.split('\n\n').filter((e) => e.startsWith('data: '));
}

describe('fault rules', () => {
  it('status: answers the status with OpenAI error JSON and retry-after; used up after `times`', async () => {
    await control.setFaults([{ times: 2, fault: { kind: 'status', status: 429, retryAfterSeconds: 7 } }]);
    for (let i = 0; i < 2; i++) {
      const res = await send(body);
      expect(res.statusCode).toBe(429);
      expect(res.headers['retry-after']).toBe('7');
      const j = (await res.body.json()) as { error: { type: string; code: string; message: string } };
      expect(j.error.code).toBe('rate_limit_exceeded');
    }
    const ok = await send(body);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    expect((await control.stats()).faults).toEqual({ status: 2 });
  });

  it('status: a custom body, 500 and 503 defaults', async () => {
    sim.setFaults([
      { times: 1, fault: { kind: 'status', status: 400, body: { error: { message: 'too long', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } } },
      { times: 1, fault: { kind: 'status', status: 500 } },
      { times: 1, fault: { kind: 'status', status: 503 } },
    ]);
    const a = await send(body);
    expect(a.statusCode).toBe(400);
    expect(((await a.body.json()) as { error: { code: string } }).error.code).toBe('context_length_exceeded');
    const b = await send(body);
    expect(b.statusCode).toBe(500);
    expect(((await b.body.json()) as { error: { type: string } }).error.type).toBe('server_error');
    const c = await send(body);
    expect(c.statusCode).toBe(503);
    await c.body.dump();
  });

  it('matches by model and by header, first matching rule wins', async () => {
    sim.setFaults([
      { match: { model: 'bad-model' }, fault: { kind: 'status', status: 502 } },
      { match: { header: ['x-tenant', 'blue'] }, fault: { kind: 'status', status: 503 } },
    ]);
    const byModel = await send({ ...body, model: 'bad-model' });
    expect(byModel.statusCode).toBe(502);
    await byModel.body.dump();
    const byHeader = await send(body, { headers: { 'x-tenant': 'blue' } });
    expect(byHeader.statusCode).toBe(503);
    await byHeader.body.dump();
    const other = await send(body, { headers: { 'x-tenant': 'red' } });
    expect(other.statusCode).toBe(200);
    await other.body.dump();
    expect(sim.stats().requestsByModel).toEqual({ 'bad-model': 1, 'sim-small': 2 });
  });

  it('x-sim-fault injects a fault for one request; a bad one is a 400', async () => {
    const res = await send(body, { headers: { 'x-sim-fault': JSON.stringify({ kind: 'status', status: 504 } satisfies Fault) } });
    expect(res.statusCode).toBe(504);
    await res.body.dump();
    const bad = await send(body, { headers: { 'x-sim-fault': '{"kind":"explode"}' } });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
    const next = await send(body);
    expect(next.statusCode).toBe(200);
    await next.body.dump();
  });

  it('timeout: never answers; the client closing is recorded as aborted with a timestamp', async () => {
    sim.setFaults([{ fault: { kind: 'timeout' } }]);
    const ac = new AbortController();
    const pending = send(body, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 150));
    expect(sim.stats().inFlight).toBe(1);
    const abortedAt = Date.now();
    ac.abort();
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    const s = sim.stats();
    expect(s.abortedTotal).toBe(1);
    expect(s.inFlight).toBe(0);
    expect(s.aborted[0]!.model).toBe('sim-small');
    expect(s.aborted[0]!.at - abortedAt).toBeLessThan(200);
    expect(s.aborted[0]!.at).toBeGreaterThanOrEqual(s.aborted[0]!.startedAt);
  });

  it('latency: answers after the delay', async () => {
    sim.setFaults([{ fault: { kind: 'latency', ms: 120 } }]);
    const t0 = Date.now();
    const res = await send(body);
    await res.body.json();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
  });

  it('slow-first-chunk: headers at once, the first event after the delay', async () => {
    sim.setFaults([{ fault: { kind: 'slow-first-chunk', ms: 150 } }]);
    const t0 = Date.now();
    const res = await send(streamBody);
    const headersAfter = Date.now() - t0;
    const pieces = await timedPieces(res);
    expect(headersAfter).toBeLessThan(100);
    expect(pieces[0]!.at - t0).toBeGreaterThanOrEqual(145);
    expect(pieces.map((p) => p.text).join('')).toContain('data: [DONE]');
  });

  it('chunk-delay: N content chunks, paced ms apart', async () => {
    sim.setFaults([{ fault: { kind: 'chunk-delay', ms: 40, chunks: 5 } }]);
    const t0 = Date.now();
    const pieces = await timedPieces(await send(streamBody));
    const all = events(pieces.map((p) => p.text).join(''));
    const content = all.filter((e) => e.includes('"content":" '));
    expect(content).toHaveLength(5);
    // role + 5 content + finish + usage + [DONE] = 9 events, 8 gaps of 40 ms
    expect(all).toHaveLength(9);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(8 * 40 - 10);
    expect(pieces.length).toBeGreaterThanOrEqual(5);
    const usage = JSON.parse(all[7]!.slice(6)) as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBe(5);
  });

  it('outputTokens: a rule sets the answer length', async () => {
    sim.setFaults([{ outputTokens: 12 }]);
    const j = (await (await send(body)).body.json()) as { usage: { completion_tokens: number }; choices: Array<{ message: { content: string } }> };
    expect(j.usage.completion_tokens).toBe(12);
    expect(j.choices[0]!.message.content).toHaveLength(48);
  });

  it('cut-stream: the socket dies after N events, without [DONE]', async () => {
    sim.setFaults([{ fault: { kind: 'cut-stream', afterChunks: 2 } }]);
    const res = await send(streamBody);
    let text = '';
    await expect(
      (async () => {
        for await (const c of res.body) text += Buffer.from(c as Uint8Array).toString('utf8');
      })(),
    ).rejects.toThrow();
    expect(events(text)).toHaveLength(2);
    expect(text).not.toContain('[DONE]');
    await new Promise((r) => setTimeout(r, 20));
    const s = sim.stats();
    expect(s.aborted).toEqual([]);
    expect(s.faults['cut-stream']).toBe(1);
  });

  it('cut-stream on a JSON answer: half a body, then the socket dies', async () => {
    sim.setFaults([{ fault: { kind: 'cut-stream', afterChunks: 0 } }]);
    const res = await send(body);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('malformed-json: a 200 whose JSON or first event does not parse', async () => {
    sim.setFaults([{ fault: { kind: 'malformed-json' } }]);
    const a = await send(body);
    expect(a.statusCode).toBe(200);
    const text = await a.body.text();
    expect(() => JSON.parse(text) as unknown).toThrow();
    const b = await send(streamBody);
    const first = events(await b.body.text())[0]!;
    expect(() => JSON.parse(first.slice(6)) as unknown).toThrow();
  });
});

describe('control over HTTP', () => {
  it('rejects bad rules, replaces rules, clears them, and resets stats', async () => {
    const bad = await request(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify([{ fault: { kind: 'latency' } }]), dispatcher: agent });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as { error: string }).error).toContain('ms');
    await control.setFaults([{ fault: { kind: 'status', status: 500 } }]);
    await control.setFaults([{ fault: { kind: 'status', status: 502 } }]);
    const r = await send(body);
    expect(r.statusCode).toBe(502);
    await r.body.dump();
    await control.clearFaults();
    const ok = await send(body);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const s = await control.stats();
    expect(s.requests).toBe(2);
    expect(s.completed).toBe(2);
    expect(s.lastRequests.map((q) => q.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(s.lastRequests[1]!.body).toEqual(body);
    await control.resetStats();
    expect((await control.stats()).requests).toBe(0);
  });

  it('keeps only the last N requests', async () => {
    const small = await startSimulator({ keepRequests: 3 });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await request(`${small.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ ...body, model: `m${i}` }), dispatcher: agent });
        await res.body.dump();
      }
      expect(small.stats().lastRequests.map((q) => (q.body as { model: string }).model)).toEqual(['m2', 'm3', 'm4']);
    } finally {
      await small.close();
    }
  });
});
