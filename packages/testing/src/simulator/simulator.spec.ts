import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSimulator } from './server.js';
import type { ChatCompletion, ChatCompletionChunk } from '@gw/contracts';
import type { Simulator } from './types.js';

let sim: Simulator;
const agent = new Agent({ keepAliveTimeout: 1_000 });

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await agent.close();
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

type OpenAIError = { error: { message: string; type: string; param: string | null; code: string | null } };
type Reply = ChatCompletion & OpenAIError;
type Chunk = ChatCompletionChunk;
type Json = Record<string, unknown>;
type Embeddings = { object: string; data: Array<{ embedding: number[] | string }>; usage: { prompt_tokens: number } };

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${sim.url}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}
async function chat(body: Json, headers: Record<string, string> = {}) {
  const r = await post('/v1/chat/completions', body, headers);
  return { ...r, json: r.headers['content-type']?.toString().startsWith('application/json') ? (JSON.parse(r.text) as Reply) : null };
}
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice(6));
}
function chunks(text: string): Chunk[] {
  return sseData(text)
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as Chunk);
}
const hello = { model: 'sim-small', messages: [{ role: 'user', content: 'hello there world' }] };

describe('chat completions (JSON)', () => {
  it('answers deterministically, echoing the model, with usage of ~chars/4', async () => {
    const a = await chat(hello);
    const b = await chat(hello);
    expect(a.status).toBe(200);
    const j = a.json!;
    expect(j.object).toBe('chat.completion');
    expect(j.model).toBe('sim-small');
    expect(j.id).toMatch(/^chatcmpl-/);
    expect(typeof j.created).toBe('number');
    const content = j.choices[0]!.message.content as string;
    expect(content).toContain('hello there world');
    expect(b.json!.choices[0]!.message.content).toBe(content);
    expect(j.choices[0]!.finish_reason).toBe('stop');
    expect(j.usage!.completion_tokens).toBe(Math.ceil(content.length / 4));
    // 3 priming + 3 per message + ceil(17 / 4)
    expect(j.usage!.prompt_tokens).toBe(3 + 3 + 5);
    expect(j.usage!.total_tokens).toBe(j.usage!.prompt_tokens + j.usage!.completion_tokens);
  });

  it('caps the answer at max_tokens with finish_reason length', async () => {
    const j = (await chat({ ...hello, max_tokens: 3 })).json!;
    expect(j.choices[0]!.finish_reason).toBe('length');
    expect(j.usage!.completion_tokens).toBeLessThanOrEqual(3);
    const k = (await chat({ ...hello, max_completion_tokens: 2 })).json!;
    expect(k.usage!.completion_tokens).toBeLessThanOrEqual(2);
  });

  it('answers a tool call when tool_choice is required or names a function', async () => {
    const tools = [
      { type: 'function', function: { name: 'noop', parameters: { type: 'object', properties: {} } } },
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } } },
    ];
    const named = (await chat({ ...hello, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } })).json!;
    const call = named.choices[0]!.message.tool_calls![0]!;
    expect(named.choices[0]!.finish_reason).toBe('tool_calls');
    expect(named.choices[0]!.message.content).toBeNull();
    expect(call.type).toBe('function');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'hello there world', days: 42 });
    const required = (await chat({ ...hello, tools, tool_choice: 'required' })).json!;
    expect(required.choices[0]!.message.tool_calls![0]!.function.name).toBe('noop');
    const auto = (await chat({ ...hello, tools })).json!;
    expect(auto.choices[0]!.message.content).toContain('hello');
  });

  it.each([
    [{ messages: hello.messages }, null, 'you must provide a model parameter'],
    [{ model: 'm' }, 'messages', "Missing required parameter: 'messages'."],
    [{ model: 'm', messages: [] }, 'messages', 'empty array'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'Invalid value: "robot"'],
    [{ model: 'm', messages: [{ role: 'user' }] }, 'messages[0].content', 'Missing required parameter'],
    [{ ...hello, stream_options: { include_usage: true } }, 'stream_options', 'only allowed when'],
    [{ ...hello, max_tokens: 0 }, 'max_tokens', 'below minimum'],
    [{ ...hello, temperature: 3 }, 'temperature', 'above maximum'],
    [{ ...hello, tool_choice: 'required' }, 'tool_choice', 'only allowed when'],
  ])('rejects %j with OpenAI error JSON', async (body, param, message) => {
    const r = await chat(body);
    expect(r.status).toBe(400);
    expect(r.json!.error.type).toBe('invalid_request_error');
    expect(r.json!.error.param).toBe(param);
    expect(r.json!.error.message).toContain(message);
    expect(Object.keys(r.json!.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  });

  it('rejects a body that is not JSON, and an unknown path', async () => {
    const r = await post('/v1/chat/completions', '{"model":');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.message).toContain('parse the JSON body');
    const u = await post('/v1/nope', {});
    expect(u.status).toBe(404);
  });
});

describe('chat completions (SSE)', () => {
  it('streams role, content deltas, finish, then [DONE]; no usage chunk unless asked', async () => {
    const plain = (await chat(hello)).json!;
    const r = await chat({ ...hello, stream: true });
    expect(r.headers['content-type']).toContain('text/event-stream');
    const data = sseData(r.text);
    expect(data.at(-1)).toBe('[DONE]');
    const cs = chunks(r.text);
    expect(cs[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(cs.every((c) => c.object === 'chat.completion.chunk' && c.model === 'sim-small' && c.id === cs[0]!.id)).toBe(true);
    const text = cs.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(cs.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(cs.some((c) => c.usage)).toBe(false);
  });

  it('sends a usage chunk with choices [] when stream_options.include_usage', async () => {
    const cs = chunks((await chat({ ...hello, stream: true, stream_options: { include_usage: true } })).text);
    const last = cs.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.prompt_tokens).toBe(11);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(cs.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('streams a tool call as argument deltas with a stable index', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    const cs = chunks((await chat({ ...hello, stream: true, tools, tool_choice: 'required' })).text);
    const calls = cs.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]!.id).toMatch(/^call_/);
    expect(calls[0]!.function?.name).toBe('lookup');
    expect(calls.every((c) => c.index === 0)).toBe(true);
    expect(calls.length).toBeGreaterThan(2);
    expect(JSON.parse(calls.map((c) => c.function?.arguments).join(''))).toEqual({ q: 'hello there world' });
    expect(cs.at(-1)!.choices[0]!.finish_reason).toBe('tool_calls');
  });
});

describe('embeddings and models', () => {
  it('returns deterministic unit vectors, closer for texts that share words', async () => {
    const r: Embeddings = JSON.parse((await post('/v1/embeddings', { model: 'text-embedding-3-small', input: ['red apple pie', 'red apple tart', 'quantum physics'], dimensions: 64 })).text);
    expect(r.object).toBe('list');
    expect(r.data).toHaveLength(3);
    const [a, b, c] = r.data.map((d) => d.embedding as number[]) as [number[], number[], number[]];
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(a).toHaveLength(64);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    const again: Embeddings = JSON.parse((await post('/v1/embeddings', { model: 'x', input: 'red apple pie', dimensions: 64 })).text);
    expect(again.data[0]!.embedding).toEqual(a);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    const b64: Embeddings = JSON.parse((await post('/v1/embeddings', { model: 'x', input: 'red apple pie', dimensions: 64, encoding_format: 'base64' })).text);
    expect(Buffer.from(b64.data[0]!.embedding as string, 'base64').readFloatLE(0)).toBeCloseTo(a[0]!, 5);
  });

  it('lists models', async () => {
    const res = await request(`${sim.url}/v1/models`, { dispatcher: agent });
    const j = (await res.body.json()) as { object: string; data: Array<{ id: string }> };
    expect(j.object).toBe('list');
    expect(j.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });
});
