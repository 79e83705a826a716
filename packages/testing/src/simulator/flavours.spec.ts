import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from './server.js';
import type { Simulator } from './types.js';
import { AZURE_FILTER_TRIGGER } from './azure.js';

/** The azure, mistral, deepseek and cohere formats of the simulator, spoken to directly (raw HTTP). */

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => sim.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}
/** `event:`/`data:` pairs of an SSE body */
function events(text: string): Array<{ event: string | null; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => {
      const lines = b.split('\n');
      const ev = lines.find((l) => l.startsWith('event: '));
      const data = lines.find((l) => l.startsWith('data: '))!.slice(6);
      return { event: ev ? ev.slice(7) : null, data: data === '[DONE]' ? {} : (JSON.parse(data) as Record<string, unknown>) };
    });
}
const hi = [{ role: 'user', content: 'hello sim' }];

describe('azure format', () => {
  const path = '/openai/deployments/dep-1/chat/completions?api-version=2024-10-21';
  it('answers on the deployment path with the api-key; the deployment is the model; filter results attached', async () => {
    const r = await post(path, { messages: hi }, { 'api-key': 'k' });
    expect(r.status).toBe(200);
    const b = r.json();
    expect(b['model']).toBe('dep-1');
    expect(b['prompt_filter_results']).toHaveLength(1);
    expect(sim.stats().requestsByModel['dep-1']).toBeGreaterThan(0);
  });
  it('401 without a key, 404 without api-version, 400 content_filter for the trigger', async () => {
    expect((await post(path, { messages: hi })).json()).toMatchObject({ error: { code: '401' } });
    expect((await post('/openai/deployments/dep-1/chat/completions', { messages: hi }, { 'api-key': 'k' })).status).toBe(404);
    const f = await post(path, { messages: [{ role: 'user', content: `bad ${AZURE_FILTER_TRIGGER}` }] }, { authorization: 'Bearer entra' });
    expect(f.status).toBe(400);
    expect(f.json()).toMatchObject({ error: { code: 'content_filter', innererror: { code: 'ResponsibleAIPolicyViolation' } } });
  });
});

describe('mistral format', () => {
  const path = '/mistral/v1/chat/completions';
  it('422 with Mistral detail for an unknown field, a developer role or a bad tool_choice', async () => {
    for (const body of [
      { model: 'm', messages: hi, seed: 1 },
      { model: 'm', messages: [{ role: 'developer', content: 'x' }] },
      { model: 'm', messages: hi, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'force' },
    ]) {
      const r = await post(path, body);
      expect(r.status).toBe(422);
      expect(r.json()).toMatchObject({ object: 'error', message: { detail: [expect.objectContaining({ loc: expect.arrayContaining(['body']) })] } });
    }
  });
  it("tool_choice any forces a tool; calls lack type (and, streamed, index); usage rides on the finish chunk", async () => {
    const body = { model: 'm', messages: hi, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }], tool_choice: 'any' };
    const j = (await post(path, body)).json() as { choices: Array<{ message: { tool_calls: Array<Record<string, unknown>> } }> };
    expect(j.choices[0]!.message.tool_calls[0]!['type']).toBeUndefined();
    const s = events((await post(path, { ...body, stream: true })).text).filter((e) => e.data['choices']);
    const calls = s.flatMap((e) => ((e.data['choices'] as Array<{ delta: { tool_calls?: Array<Record<string, unknown>> } }>)[0]?.delta.tool_calls ?? []));
    expect(calls.every((c) => c['index'] === undefined && c['type'] === undefined)).toBe(true);
    const last = s.at(-1)!.data as { usage?: unknown; choices: Array<{ finish_reason: string }> };
    expect(last.choices[0]!.finish_reason).toBe('tool_calls');
    expect(last.usage).toBeTruthy();
  });
});

describe('deepseek format', () => {
  const path = '/deepseek/chat/completions';
  it('refuses json_schema, n > 1, reasoning_content in input, logprobs on the reasoner', async () => {
    for (const body of [
      { model: 'deepseek-chat', messages: hi, response_format: { type: 'json_schema', json_schema: { name: 'x' } } },
      { model: 'deepseek-chat', messages: hi, n: 2 },
      { model: 'deepseek-chat', messages: [{ role: 'assistant', content: 'a', reasoning_content: 'r' }, ...hi] },
      { model: 'deepseek-reasoner', messages: hi, logprobs: true },
    ]) {
      const r = await post(path, body);
      expect(r.status).toBe(400);
      expect(r.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
    expect((await post(path, { model: 'deepseek-chat', messages: hi, logprobs: true })).status).toBe(200);
  });
  it('the reasoner streams reasoning_content deltas before content; usage has cache fields only', async () => {
    const s = events((await post(path, { model: 'deepseek-reasoner', messages: hi, stream: true, stream_options: { include_usage: true } })).text);
    const deltas = s.flatMap((e) => ((e.data['choices'] as Array<{ delta: Record<string, unknown> }> | undefined) ?? []).map((c) => c.delta));
    const firstReasoning = deltas.findIndex((d) => typeof d['reasoning_content'] === 'string' && d['reasoning_content'].length > 0);
    const firstContent = deltas.findIndex((d) => typeof d['content'] === 'string' && d['content'].length > 0);
    expect(firstReasoning).toBeGreaterThanOrEqual(0);
    expect(firstReasoning).toBeLessThan(firstContent);
    const usage = s.map((e) => e.data['usage']).filter(Boolean).at(-1) as Record<string, unknown>;
    expect(usage['prompt_cache_hit_tokens']).toBe(0);
    expect(usage['prompt_tokens_details']).toBeUndefined();
  });
});

describe('cohere format', () => {
  const auth = { authorization: 'Bearer co-key' };
  it('401 without a key; 400 in Cohere shape for schema violations', async () => {
    expect((await post('/v2/chat', { model: 'c', messages: hi })).status).toBe(401);
    for (const body of [
      { model: 'c', messages: hi, tool_choice: 'required', tools: [{ type: 'function', function: { name: 'f' } }] },
      { model: 'c', messages: hi, n: 2 },
      { model: 'c', messages: [{ role: 'developer', content: 'x' }] },
      { model: 'c', messages: [{ role: 'tool', content: 'x' }] },
      { model: 'c', messages: hi, p: 1 },
      { messages: hi },
    ]) {
      const r = await post('/v2/chat', body, auth);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json()['message']).toMatch(/^invalid request: /);
    }
  });
  it('JSON text answer, and the SSE event sequence of a forced tool call', async () => {
    const j = (await post('/v2/chat', { model: 'c', messages: hi }, auth)).json();
    expect(j).toMatchObject({ finish_reason: 'COMPLETE', message: { role: 'assistant', content: [{ type: 'text' }] }, usage: { billed_units: {} } });
    const body = { model: 'c', stream: true, messages: hi, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }], tool_choice: 'REQUIRED' };
    const s = events((await post('/v2/chat', body, auth)).text);
    const types = s.map((e) => e.event);
    expect(s.every((e) => e.event === e.data['type'])).toBe(true);
    expect(types[0]).toBe('message-start');
    expect(types).toContain('tool-call-start');
    expect(types).toContain('tool-call-delta');
    expect(types.at(-2)).toBe('tool-call-end');
    expect(s.at(-1)!.data).toMatchObject({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL' } });
  });
  it('embed: input_type required, float embeddings by type, billed units', async () => {
    expect((await post('/v2/embed', { model: 'e', texts: ['a'] }, auth)).status).toBe(400);
    const r = (await post('/v2/embed', { model: 'e', texts: ['a', 'b'], input_type: 'search_query', embedding_types: ['float'], output_dimension: 8 }, auth)).json() as {
      embeddings: { float: number[][] };
      meta: { billed_units: { input_tokens: number } };
    };
    expect(r.embeddings.float).toHaveLength(2);
    expect(r.embeddings.float[0]).toHaveLength(8);
    expect(r.meta.billed_units.input_tokens).toBeGreaterThan(0);
  });
  it('a status fault answers in Cohere shape', async () => {
    sim.setFaults([{ match: { model: 'c-fault' }, fault: { kind: 'status', status: 429 }, times: 1 }]);
    const r = await post('/v2/chat', { model: 'c-fault', messages: hi }, auth);
    expect(r.status).toBe(429);
    expect(r.json()['message']).toContain('Trial key');
  });
});
