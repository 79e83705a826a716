import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import type { ResolvedProvider, TranslateOptions } from '../types.js';
import { adapter } from './index.js';
import { JSON_TOOL, type AnthropicRequest } from './chat.js';

const ctx = { model: 'claude-sonnet-4-5', requestId: 'req123', created: 1_700_000_000 };
const provider: ResolvedProvider = { id: 'anth', type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-test', headers: {}, options: {} };
const drop: TranslateOptions = { unsupportedParams: 'drop' };
const reject: TranslateOptions = { unsupportedParams: 'reject' };

function build(req: Partial<ChatCompletionRequest>, opts = drop, p = provider, stream = false) {
  const full = { model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...req } as ChatCompletionRequest;
  const up = adapter.chat.buildRequest(full, stream, p, ctx, opts);
  return { up, body: JSON.parse(up.body as string) as AnthropicRequest };
}
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8')) as unknown;
}

describe('anthropic buildRequest', () => {
  it('addresses /v1/messages with x-api-key and anthropic-version, the plan model and default max_tokens', () => {
    const { up, body } = build({});
    expect(up.method).toBe('POST');
    expect(up.url).toBe('https://api.anthropic.com/v1/messages');
    expect(up.headers['x-api-key']).toBe('sk-ant-test');
    expect(up.headers['anthropic-version']).toBe('2023-06-01');
    expect(up.headers['authorization']).toBeUndefined();
    expect(body).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
    const trailing = build({}, drop, { ...provider, baseUrl: 'http://127.0.0.1:9/', headers: { 'X-Extra': '1' } });
    expect(trailing.up.url).toBe('http://127.0.0.1:9/v1/messages');
    expect(trailing.up.headers['x-extra']).toBe('1');
  });

  it('streams with stream: true and an SSE accept header', () => {
    const { up, body } = build({}, drop, provider, true);
    expect(body.stream).toBe(true);
    expect(up.headers['accept']).toBe('text/event-stream');
  });

  it('hoists system and developer messages into the top-level system, keeping turns in order', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'developer', content: [{ type: 'text', text: 'answer in French' }] },
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'un' },
        { role: 'user', content: 'two' },
      ],
    });
    expect(body.system).toBe('be brief\n\nanswer in French');
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'un' }] });
  });

  it('merges consecutive same-role turns so roles alternate', () => {
    const { body } = build({ messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] });
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]);
  });

  it('translates images: data URLs to base64 sources, http URLs to url sources', () => {
    const { body } = build({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(body.messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
    expect(() => build({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] })).toThrow(GatewayError);
  });

  it('translates tools and every tool_choice', () => {
    const tools = [{ type: 'function' as const, function: { name: 'weather', description: 'get weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const { body } = build({ tools });
    expect(body.tools).toEqual([{ name: 'weather', description: 'get weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }]);
    expect(body.tool_choice).toBeUndefined();
    expect(build({ tools, tool_choice: 'auto' }).body.tool_choice).toEqual({ type: 'auto' });
    expect(build({ tools, tool_choice: 'none' }).body.tool_choice).toEqual({ type: 'none' });
    expect(build({ tools, tool_choice: 'required' }).body.tool_choice).toEqual({ type: 'any' });
    expect(build({ tools, tool_choice: { type: 'function', function: { name: 'weather' } } }).body.tool_choice).toEqual({ type: 'tool', name: 'weather' });
    expect(build({ tools, parallel_tool_calls: false }).body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    const noParams = build({ tools: [{ type: 'function', function: { name: 'now' } }] }).body.tools;
    expect(noParams).toEqual([{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
  });

  it('turns assistant tool calls into tool_use blocks and consecutive tool results into one user turn', () => {
    const { body } = build({
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'checking',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'thanks' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'checking' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'rain' }] },
          { type: 'text', text: 'thanks' },
        ],
      },
    ]);
  });

  it('refuses tool call arguments that are not JSON with a 400 naming them', () => {
    const bad = () =>
      build({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] });
    expect(bad).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', param: 'messages[1].tool_calls[0].function.arguments' }) as Error);
  });

  it('maps sampling parameters, stop, max_completion_tokens and user', () => {
    const { body } = build({ temperature: 0.2, top_p: 0.9, stop: 'END', max_tokens: 100, max_completion_tokens: 50, user: 'u-1' });
    expect(body).toMatchObject({ temperature: 0.2, top_p: 0.9, stop_sequences: ['END'], max_tokens: 50, metadata: { user_id: 'u-1' } });
    expect(build({ stop: ['a', 'b'], max_tokens: 77 }).body).toMatchObject({ stop_sequences: ['a', 'b'], max_tokens: 77 });
  });

  it('json_schema → output_config.format by default, a forced tool with structuredOutputs: tool', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const rf = { type: 'json_schema' as const, json_schema: { name: 'city', schema } };
    expect(build({ response_format: rf }).body.output_config).toEqual({ format: { type: 'json_schema', schema } });
    const fallback = build({ response_format: rf }, drop, { ...provider, options: { structuredOutputs: 'tool' } }).body;
    expect(fallback.output_config).toBeUndefined();
    expect(fallback.tools).toEqual([{ name: JSON_TOOL, description: 'Respond with a JSON object (city).', input_schema: schema }]);
    expect(fallback.tool_choice).toEqual({ type: 'tool', name: JSON_TOOL });
  });

  it('drops parameters Anthropic lacks, or refuses them with a 400 when asked to', () => {
    const req = { n: 2, seed: 1, presence_penalty: 0.5, frequency_penalty: 0.5, response_format: { type: 'json_object' as const } };
    const { body } = build(req);
    for (const k of ['n', 'seed', 'presence_penalty', 'frequency_penalty', 'response_format', 'output_config']) expect(body).not.toHaveProperty(k);
    expect(() => build({ n: 2 }, reject)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', status: 400, param: 'n' }) as Error);
    expect(() => build({ seed: 3 }, reject)).toThrow(expect.objectContaining({ param: 'seed' }) as Error);
    expect(() => build({ response_format: { type: 'json_object' } }, reject)).toThrow(expect.objectContaining({ param: 'response_format' }) as Error);
    expect(() => build({ n: 1 }, reject)).not.toThrow();
  });

  it('refuses audio input with a 400', () => {
    expect(() => build({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA==', format: 'wav' } }] }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }) as Error,
    );
  });
});

describe('anthropic parseResponse (real captures)', () => {
  it('text: content, finish stop, usage with cached tokens', () => {
    const c = adapter.chat.parseResponse(fixture('anthropic-text.json'), ctx);
    expect(c.id).toBe('chatcmpl-req123');
    expect(c.object).toBe('chat.completion');
    expect(c.created).toBe(ctx.created);
    expect(c.model).toBe('claude-sonnet-4-5-20250929');
    expect(c.choices[0]!.message.content).toBe("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?");
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.usage).toEqual({ prompt_tokens: 12, completion_tokens: 29, total_tokens: 41, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('tool use without arguments: text plus a tool call with {} arguments, finish tool_calls', () => {
    const c = adapter.chat.parseResponse(fixture('anthropic-tool-no-args.json'), ctx);
    const m = c.choices[0]!.message;
    expect(m.content).toContain('Okay, I will update the current issue list:');
    expect(m.tool_calls).toEqual([{ id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', type: 'function', function: { name: 'updateIssueList', arguments: '{}' } }]);
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('a client tool named json stays a tool call; the gateway fallback tool becomes content', () => {
    const raw = fixture('anthropic-json-tool.1.json') as { content: Array<{ name?: string; input?: unknown }> };
    const asTool = adapter.chat.parseResponse(raw, ctx).choices[0]!;
    expect(asTool.message.tool_calls![0]!.function.name).toBe('json');
    expect(JSON.parse(asTool.message.tool_calls![0]!.function.arguments)).toEqual(raw.content[0]!.input);
    // the same capture as the answer to the json_schema fallback (the tool renamed to ours)
    const renamed = structuredClone(raw);
    renamed.content[0]!.name = JSON_TOOL;
    const asJson = adapter.chat.parseResponse(renamed, ctx).choices[0]!;
    expect(asJson.message.tool_calls).toBeUndefined();
    expect(JSON.parse(asJson.message.content!)).toEqual(raw.content[0]!.input);
    expect(asJson.finish_reason).toBe('stop');
  });

  it('native structured output: the JSON text is the content', () => {
    const c = adapter.chat.parseResponse(fixture('anthropic-json-output-format.1.json'), ctx);
    expect((JSON.parse(c.choices[0]!.message.content!) as { recipe: { name: string } }).recipe.name).toBe('Classic Lasagna');
    expect(c.usage!.completion_tokens).toBe(629);
  });

  it('thinking becomes reasoning_content', () => {
    const c = adapter.chat.parseResponse(fixture('anthropic-clear-thinking.1.json'), ctx);
    expect(c.choices[0]!.message.reasoning_content).toBe('925 divided by 5 = 185');
    expect(c.choices[0]!.message.content).toBe('925 ÷ 5 = 185');
  });

  it('counts cache reads and writes in the prompt, reads as cached_tokens; maps max_tokens to length', () => {
    const c = adapter.chat.parseResponse(
      { id: 'm', model: 'claude', content: [{ type: 'text', text: 'x' }], stop_reason: 'max_tokens', usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 3 } },
      ctx,
    );
    expect(c.usage).toMatchObject({ prompt_tokens: 115, completion_tokens: 3, total_tokens: 118, prompt_tokens_details: { cached_tokens: 100 } });
    expect(c.choices[0]!.finish_reason).toBe('length');
  });

  it('a body that is not a message is a PROVIDER_ERROR', () => {
    expect(() => adapter.chat.parseResponse({ type: 'message' }, ctx)).toThrow(expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error);
    expect(() => adapter.chat.parseResponse('nope', ctx)).toThrow(GatewayError);
  });
});
