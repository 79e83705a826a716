import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { startSimulator } from './server.js';
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

type Json = Record<string, unknown>;
type AnthropicError = { type: string; error: { type: string; message: string } };
type Message = {
  id: string;
  type: string;
  role: string;
  model: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
};
const VERSION = { 'anthropic-version': '2023-06-01' };

async function post(body: unknown, headers: Record<string, string> = VERSION) {
  const res = await request(`${sim.url}/v1/messages`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}
/** SSE events as [event name, parsed data]. */
function events(text: string): Array<[string, Json]> {
  return text
    .split('\n\n')
    .filter((e) => e.trim())
    .map((e) => {
      const lines = e.split('\n');
      const name = lines.find((l) => l.startsWith('event: '))!.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))!.slice(6);
      return [name, JSON.parse(data) as Json];
    });
}
const hello = { model: 'claude-sim', max_tokens: 200, messages: [{ role: 'user', content: 'hello there world' }] };

describe('anthropic messages (JSON)', () => {
  it('answers a message derived from the last user text, with usage', async () => {
    const r = await post({ ...hello, system: 'be brief' });
    expect(r.status).toBe(200);
    const m = JSON.parse(r.text) as Message;
    expect(m).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sim', stop_reason: 'end_turn' });
    expect(m.id).toMatch(/^msg_/);
    expect(m.content).toHaveLength(1);
    expect(m.content[0]!.text).toContain('hello there world');
    expect(m.usage.output_tokens).toBe(Math.ceil(m.content[0]!.text!.length / 4));
    // 3 priming + (3 + ceil(8/4)) system + (3 + ceil(17/4)) user
    expect(m.usage.input_tokens).toBe(3 + 5 + 8);
  });

  it('caps at max_tokens with stop_reason max_tokens', async () => {
    const m = JSON.parse((await post({ ...hello, max_tokens: 2 })).text) as Message;
    expect(m.stop_reason).toBe('max_tokens');
    expect(m.usage.output_tokens).toBeLessThanOrEqual(2);
  });

  it('answers tool_use when tool_choice forces a tool (any or named), text when auto', async () => {
    const tools = [
      { name: 'noop', input_schema: { type: 'object', properties: {} } },
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } },
    ];
    const named = JSON.parse((await post({ ...hello, tools, tool_choice: { type: 'tool', name: 'get_weather' } })).text) as Message;
    expect(named.stop_reason).toBe('tool_use');
    expect(named.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'hello there world', days: 42 } });
    expect(named.content[0]!.id).toMatch(/^toolu_/);
    const any = JSON.parse((await post({ ...hello, tools, tool_choice: { type: 'any' } })).text) as Message;
    expect(any.content[0]!.name).toBe('noop');
    const auto = JSON.parse((await post({ ...hello, tools, tool_choice: { type: 'auto' } })).text) as Message;
    expect(auto.content[0]!.type).toBe('text');
  });

  it('accepts a tool round trip: tool_use then tool_result in the next user turn', async () => {
    const r = await post({
      ...hello,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'w', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'sunny' }, { type: 'text', text: 'so?' }] },
      ],
    });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.text) as Message).content[0]!.text).toContain('so?');
  });

  it.each([
    [{ ...hello, model: undefined }, 'model: Field required'],
    [{ ...hello, max_tokens: undefined }, 'max_tokens: Field required'],
    [{ ...hello, max_tokens: 0 }, 'max_tokens: Input should be greater than or equal to 1'],
    [{ ...hello, messages: undefined }, 'messages: Field required'],
    [{ ...hello, messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'y' }] }, 'top-level `system` parameter'],
    [{ ...hello, messages: [{ role: 'robot', content: 'x' }] }, "messages.0.role: Input should be 'user' or 'assistant'"],
    [{ ...hello, messages: [{ role: 'assistant', content: 'x' }] }, 'first message must use the "user" role'],
    [{ ...hello, messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }, 'roles must alternate'],
    [{ ...hello, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, "Input tag 'image_url'"],
    [{ ...hello, messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }, 'text content blocks must be non-empty'],
    [{ ...hello, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'nope', content: 'x' }] }] }, 'unexpected `tool_use_id`'],
    [
      { ...hello, messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: [{ type: 'tool_use', id: 't9', name: 'f', input: {} }] }, { role: 'user', content: 'b' }] },
      '`tool_use` ids were found without `tool_result` blocks',
    ],
    [{ ...hello, system: [{ type: 'image' }] }, 'system.0'],
    [{ ...hello, temperature: 1.5 }, 'temperature: Input should be less than or equal to 1'],
    [{ ...hello, tools: [{ name: 'f', input_schema: {} }], tool_choice: { type: 'tool', name: 'g' } }, "tool 'g' not found"],
    [{ ...hello, tool_choice: { type: 'required' } }, 'tool_choice'],
    [{ ...hello, n: 2 }, 'n: Extra inputs are not permitted'],
    [{ ...hello, response_format: { type: 'json_object' } }, 'response_format: Extra inputs are not permitted'],
  ])('rejects %j with a 400 in Anthropic error shape', async (body, message) => {
    const r = await post(body);
    expect(r.status).toBe(400);
    const e = JSON.parse(r.text) as AnthropicError;
    expect(e.type).toBe('error');
    expect(e.error.type).toBe('invalid_request_error');
    expect(e.error.message).toContain(message);
  });

  it('requires the anthropic-version header; an unparseable body is a 400 in Anthropic shape', async () => {
    const r = await post(hello, {});
    expect(r.status).toBe(400);
    expect((JSON.parse(r.text) as AnthropicError).error.message).toBe('anthropic-version: header is required');
    const bad = await post('{"model":', VERSION);
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.text) as AnthropicError).type).toBe('error');
  });
});

describe('anthropic messages (SSE)', () => {
  it('streams the real event sequence; the deltas add up to the JSON answer', async () => {
    const plain = JSON.parse((await post(hello)).text) as Message;
    const r = await post({ ...hello, stream: true });
    expect(r.headers['content-type']).toContain('text/event-stream');
    expect(r.text).not.toContain('[DONE]');
    const evs = events(r.text);
    const names = evs.map(([n]) => n);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(evs.every(([n, d]) => d['type'] === n)).toBe(true);
    const text = evs
      .filter(([n]) => n === 'content_block_delta')
      .map(([, d]) => (d['delta'] as { text: string }).text)
      .join('');
    expect(text).toBe(plain.content[0]!.text);
    const delta = evs.find(([n]) => n === 'message_delta')![1] as { delta: { stop_reason: string }; usage: { output_tokens: number } };
    expect(delta.delta.stop_reason).toBe('end_turn');
    expect(delta.usage.output_tokens).toBe(plain.usage.output_tokens);
  });

  it('streams a forced tool as input_json_delta fragments', async () => {
    const tools = [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];
    const evs = events((await post({ ...hello, stream: true, tools, tool_choice: { type: 'any' } })).text);
    const start = evs.find(([n]) => n === 'content_block_start')![1] as { content_block: { type: string; name: string } };
    expect(start.content_block).toMatchObject({ type: 'tool_use', name: 'lookup' });
    const json = evs
      .filter(([n]) => n === 'content_block_delta')
      .map(([, d]) => (d['delta'] as { type: string; partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ q: 'hello there world' });
    expect((evs.find(([n]) => n === 'message_delta')![1] as { delta: { stop_reason: string } }).delta.stop_reason).toBe('tool_use');
  });
});

describe('anthropic faults', () => {
  it('status: the error body is in Anthropic shape (529 overloaded_error, 429 with retry-after)', async () => {
    sim.setFaults([{ times: 1, fault: { kind: 'status', status: 529 } }, { times: 1, fault: { kind: 'status', status: 429, retryAfterSeconds: 3 } }]);
    const a = await post(hello);
    expect(a.status).toBe(529);
    expect(JSON.parse(a.text)).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const b = await post(hello);
    expect(b.status).toBe(429);
    expect(b.headers['retry-after']).toBe('3');
    expect((JSON.parse(b.text) as AnthropicError).error.type).toBe('rate_limit_error');
  });

  it('cut-stream sends the first events then drops the connection; malformed-json breaks the first event', async () => {
    sim.setFaults([{ times: 1, fault: { kind: 'cut-stream', afterChunks: 3 } }]);
    const res = await request(`${sim.url}/v1/messages`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', ...VERSION }, body: JSON.stringify({ ...hello, stream: true }) });
    let got = '';
    await expect(
      (async () => {
        for await (const c of res.body) got += Buffer.from(c as Uint8Array).toString('utf8');
      })(),
    ).rejects.toThrow();
    expect(events(got).map(([n]) => n)).toEqual(['message_start', 'content_block_start', 'ping']);
    sim.setFaults([{ times: 1, fault: { kind: 'malformed-json' } }]);
    const m = await post({ ...hello, stream: true });
    expect(m.status).toBe(200);
    expect(() => events(m.text)).toThrow();
  });

  it('fault rules match the body model; outputTokens shapes the answer', async () => {
    sim.setFaults([{ match: { model: 'claude-other' }, fault: { kind: 'status', status: 500 } }, { outputTokens: 5 }]);
    const other = await post({ ...hello, model: 'claude-other' });
    expect(other.status).toBe(500);
    expect((JSON.parse(other.text) as AnthropicError).error.type).toBe('api_error');
    const m = JSON.parse((await post(hello)).text) as Message;
    expect(m.usage.output_tokens).toBe(5);
    expect(sim.stats().requestsByModel).toEqual({ 'claude-other': 1, 'claude-sim': 1 });
  });
});
