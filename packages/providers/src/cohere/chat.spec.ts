import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { ctx, fixture } from '../shared/spec-helpers.js';
import type { ResolvedProvider } from '../types.js';
import { adapter } from './index.js';

const provider: ResolvedProvider = {
  id: 'co',
  type: 'cohere',
  baseUrl: 'https://api.cohere.com',
  apiKey: 'ck',
  headers: { 'X-Client-Name': 'gw' },
  options: {},
};
const weather = {
  type: 'function' as const,
  function: {
    name: 'weather',
    description: 'Weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};
const other = {
  type: 'function' as const,
  function: { name: 'other', parameters: { type: 'object', properties: {} } },
};
const req: ChatCompletionRequest = {
  model: 'client',
  messages: [
    { role: 'system', content: 'terse' },
    { role: 'developer', content: [{ type: 'text', text: 'dev rules' }] },
    {
      role: 'user',
      name: 'ann',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'https://example.test/a.png', detail: 'low' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'weather_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        { id: 'other_2', type: 'function', function: { name: 'other', arguments: '' } },
      ],
    },
    { role: 'tool', tool_call_id: 'weather_1', content: '{"tempC":21}' },
    { role: 'tool', tool_call_id: 'other_2', content: [{ type: 'text', text: 'done' }] },
  ],
  tools: [weather, other],
  max_completion_tokens: 64,
  temperature: 0.4,
  top_p: 0.8,
  seed: 9,
  stop: 'END',
  frequency_penalty: 0.1,
  presence_penalty: 0.2,
  response_format: {
    type: 'json_schema',
    json_schema: { name: 'o', schema: { type: 'object', properties: { a: { type: 'string' } } } },
  },
};
const build = (r: ChatCompletionRequest, stream = false, mode: 'drop' | 'reject' = 'drop') =>
  adapter.chat.buildRequest(
    r,
    stream,
    provider,
    { ...ctx, model: 'command-a-03-2025' },
    { unsupportedParams: mode },
  );
const body = (r: ChatCompletionRequest, stream = false, mode: 'drop' | 'reject' = 'drop') =>
  JSON.parse(build(r, stream, mode).body as string) as Record<string, unknown>;

describe('cohere buildRequest (v2 chat)', () => {
  it('URL, bearer key, extra headers; every message translated', () => {
    const r = build(req, true);
    expect(r.url).toBe('https://api.cohere.com/v2/chat');
    expect(r.headers).toMatchObject({
      authorization: 'Bearer ck',
      accept: 'text/event-stream',
      'x-client-name': 'gw',
    });
    const b = JSON.parse(r.body as string) as Record<string, unknown>;
    expect(b['messages']).toEqual([
      { role: 'system', content: 'terse' },
      { role: 'system', content: 'dev rules' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'https://example.test/a.png', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        tool_calls: [
          { id: 'weather_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'other_2', type: 'function', function: { name: 'other', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'weather_1', content: '{"tempC":21}' },
      { role: 'tool', tool_call_id: 'other_2', content: 'done' },
    ]);
    expect(b).toMatchObject({
      model: 'command-a-03-2025',
      stream: true,
      max_tokens: 64,
      temperature: 0.4,
      p: 0.8,
      seed: 9,
      stop_sequences: ['END'],
      frequency_penalty: 0.1,
      presence_penalty: 0.2,
      response_format: {
        type: 'json_object',
        json_schema: { type: 'object', properties: { a: { type: 'string' } } },
      },
    });
    expect(b['tools']).toEqual([weather, other]);
    expect(b['tool_choice']).toBeUndefined();
  });
  it('tool_choice: required → REQUIRED, none → NONE, a named function → REQUIRED with only that tool', () => {
    expect(body({ ...req, tool_choice: 'required' })['tool_choice']).toBe('REQUIRED');
    expect(body({ ...req, tool_choice: 'none' })['tool_choice']).toBe('NONE');
    const named = body({ ...req, tool_choice: { type: 'function', function: { name: 'other' } } });
    expect(named['tool_choice']).toBe('REQUIRED');
    expect(named['tools']).toEqual([other]);
    expect(() => body({ ...req, tool_choice: { type: 'function', function: { name: 'nope' } } })).toThrow(
      GatewayError,
    );
    expect(body({ ...req, response_format: { type: 'json_object' } })['response_format']).toEqual({
      type: 'json_object',
    });
  });
  it('n, user, logprobs and parallel_tool_calls: false have no Cohere equivalent: dropped, or a 400 in reject mode', () => {
    const extra = { ...req, n: 2, user: 'u', logprobs: true, parallel_tool_calls: false };
    const b = body(extra);
    for (const p of ['n', 'user', 'logprobs', 'parallel_tool_calls']) expect(b[p]).toBeUndefined();
    for (const [p, v] of [
      ['n', 2],
      ['user', 'u'],
      ['logprobs', true],
      ['parallel_tool_calls', false],
    ] as const) {
      let err: unknown;
      try {
        body({ ...req, [p]: v }, false, 'reject');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).param).toBe(p);
    }
    expect(() => body(req, false, 'reject')).not.toThrow();
  });
  it('audio input is refused; a bad image URL too', () => {
    expect(() =>
      body({
        ...req,
        messages: [
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] },
        ],
      }),
    ).toThrow(GatewayError);
    expect(() =>
      body({
        ...req,
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] },
        ],
      }),
    ).toThrow(GatewayError);
  });
});

describe('cohere parseResponse (real captures)', () => {
  it('text: content, finish stop, billed usage', () => {
    const c = adapter.chat.parseResponse(JSON.parse(fixture('cohere/cohere-text.json')), ctx);
    expect(c.object).toBe('chat.completion');
    expect(c.choices[0]!.message.content?.length).toBeGreaterThan(0);
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(c.usage!.total_tokens).toBe(c.usage!.prompt_tokens + c.usage!.completion_tokens);
  });
  it('tool call: two calls, finish tool_calls, tool_plan not shown as content', () => {
    const c = adapter.chat.parseResponse(JSON.parse(fixture('cohere/cohere-tool-call.json')), ctx);
    const m = c.choices[0]!.message;
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
    expect(m.content).toBeNull();
    expect(m.tool_calls?.map((t) => t.function.name)).toEqual(['weather', 'cityAttractions']);
    expect(JSON.parse(m.tool_calls![0]!.function.arguments)).toEqual({ location: 'San Francisco' });
    expect(c.usage).toMatchObject({ prompt_tokens: 119, completion_tokens: 52, total_tokens: 171 });
  });
  it('reasoning: thinking → reasoning_content; "null" arguments → {}', () => {
    const r = adapter.chat.parseResponse(JSON.parse(fixture('cohere/cohere-reasoning.json')), ctx);
    expect(r.choices[0]!.message.reasoning_content?.length).toBeGreaterThan(0);
    expect(r.choices[0]!.message.content?.length).toBeGreaterThan(0);
    const n = adapter.chat.parseResponse(JSON.parse(fixture('cohere/cohere-null-args.json')), ctx);
    expect(n.choices[0]!.message.tool_calls![0]!.function.arguments).toBe('{}');
  });
  it('a malformed body is a PROVIDER_ERROR', () => {
    expect(() => adapter.chat.parseResponse({ id: 'x' }, ctx)).toThrow(GatewayError);
    expect(() => adapter.chat.parseResponse(null, ctx)).toThrow(GatewayError);
  });
});
