import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import type { ResolvedProvider, TranslateOptions } from '../types.js';
import { cleanSchema, type GeminiRequest } from './chat.js';
import { adapter } from './index.js';

const ctx = { model: 'gemini-2.5-flash', requestId: 'rq1', created: 1_700_000_000 };
const provider: ResolvedProvider = { id: 'g', type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com', apiKey: 'AIza-test', headers: {}, options: {} };
const drop: TranslateOptions = { unsupportedParams: 'drop' };

function build(req: Partial<ChatCompletionRequest>, stream = false, opts = drop) {
  const full = { model: 'gemini', messages: [{ role: 'user', content: 'hi' }], ...req } as ChatCompletionRequest;
  const up = adapter.chat.buildRequest(full, stream, provider, ctx, opts);
  return { up, body: JSON.parse(up.body as string) as GeminiRequest };
}
function read(name: string): string {
  return readFileSync(new URL(`../../test/fixtures/google/${name}`, import.meta.url), 'utf8');
}

describe('gemini buildRequest', () => {
  it('addresses generateContent / streamGenerateContent?alt=sse with x-goog-api-key', () => {
    const { up, body } = build({});
    expect(up.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    expect(up.headers['x-goog-api-key']).toBe('AIza-test');
    expect(up.headers['authorization']).toBeUndefined();
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    const s = build({}, true);
    expect(s.up.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(s.up.headers['accept']).toBe('text/event-stream');
  });

  it('system and developer messages → systemInstruction; assistant → model; same roles merged', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'one' },
        { role: 'developer', content: 'in French' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: 'deux' },
        { role: 'user', content: 'three' },
      ],
    });
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'be brief\n\nin French' }] });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'one' }, { text: 'two' }] },
      { role: 'model', parts: [{ text: 'deux' }] },
      { role: 'user', parts: [{ text: 'three' }] },
    ]);
  });

  it('images: data URLs → inlineData, http URLs → fileData with a guessed MIME type', () => {
    const { body } = build({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a/photo.PNG?x=1' } },
            { type: 'image_url', image_url: { url: 'https://example.com/noext' } },
          ],
        },
      ],
    });
    expect(body.contents[0]!.parts).toEqual([
      { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
      { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/a/photo.PNG?x=1' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/noext' } },
    ]);
    expect(() => build({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] })).toThrow(GatewayError);
  });

  it('tools → functionDeclarations with cleaned schemas; tool_choice → functionCallingConfig', () => {
    const parameters = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { city: { type: ['string', 'null'] } }, required: ['city'], additionalProperties: false };
    const tools = [
      { type: 'function' as const, function: { name: 'weather', description: 'w', parameters, strict: true } },
      { type: 'function' as const, function: { name: 'now', parameters: { type: 'object', properties: {} } } },
    ];
    const { body } = build({ tools });
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'weather', description: 'w', parameters: { type: 'object', properties: { city: { type: 'string', nullable: true } }, required: ['city'] } },
          { name: 'now' },
        ],
      },
    ]);
    expect(body.toolConfig).toBeUndefined();
    expect(build({ tools, tool_choice: 'auto' }).body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(build({ tools, tool_choice: 'none' }).body.toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(build({ tools, tool_choice: 'required' }).body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(build({ tools, tool_choice: { type: 'function', function: { name: 'now' } } }).body.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['now'] },
    });
  });

  it('assistant tool calls → functionCall parts; tool results → functionResponse parts by name, merged', () => {
    const { body } = build({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'c2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'c2', content: 'noon' },
      ],
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'weather?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Paris' } } }, { functionCall: { name: 'time', args: {} } }] },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'weather', response: { temp: 21 } } }, { functionResponse: { name: 'time', response: { content: 'noon' } } }],
      },
    ]);
    expect(() => build({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'nope', content: 'r' }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', param: 'messages[1].tool_call_id' }) as Error,
    );
  });

  it('generationConfig: sampling, max tokens, stop, seed, n → candidateCount, penalties', () => {
    const { body } = build({ temperature: 0.3, top_p: 0.8, max_tokens: 99, stop: ['X'], seed: 7, n: 2, presence_penalty: 0.1, frequency_penalty: 0.2 });
    expect(body.generationConfig).toEqual({ temperature: 0.3, topP: 0.8, maxOutputTokens: 99, stopSequences: ['X'], seed: 7, candidateCount: 2, presencePenalty: 0.1, frequencyPenalty: 0.2 });
    expect(build({ max_tokens: 99, max_completion_tokens: 10 }).body.generationConfig).toEqual({ maxOutputTokens: 10 });
    expect(build({ stop: 'Y' }).body.generationConfig).toEqual({ stopSequences: ['Y'] });
  });

  it('response_format: json_object → responseMimeType, json_schema → responseSchema without unsupported keywords', () => {
    expect(build({ response_format: { type: 'json_object' } }).body.generationConfig).toEqual({ responseMimeType: 'application/json' });
    const schema = {
      $schema: 'x',
      type: 'object',
      additionalProperties: false,
      properties: { city: { type: 'string' }, kind: { const: 'town' }, tags: { type: 'array', items: { type: 'string', additionalProperties: false } } },
      required: ['city'],
    };
    expect(build({ response_format: { type: 'json_schema', json_schema: { name: 'c', schema, strict: true } } }).body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { city: { type: 'string' }, kind: { enum: ['town'] }, tags: { type: 'array', items: { type: 'string' } } }, required: ['city'] },
    });
    expect(cleanSchema({ anyOf: [{ type: 'string', $id: 'a' }, { type: 'integer' }] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'integer' }] });
  });

  it('logprobs are dropped, or refused with a 400 under reject', () => {
    expect(build({ logprobs: true }).body.generationConfig).toBeUndefined();
    expect(() => build({ logprobs: true }, false, { unsupportedParams: 'reject' })).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST', param: 'logprobs' }) as Error);
  });
});

describe('gemini parseResponse (real captures)', () => {
  it('text: content, finish stop, usage with thoughts counted as reasoning tokens', () => {
    const c = adapter.chat.parseResponse(JSON.parse(read('google-text.json')), ctx);
    expect(c).toMatchObject({ id: 'chatcmpl-rq1', object: 'chat.completion', created: ctx.created, model: 'gemini-3-pro-preview' });
    expect(c.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y." }, finish_reason: 'stop' },
    ]);
    expect(c.usage).toEqual({ prompt_tokens: 9, completion_tokens: 272, total_tokens: 281, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 244 } });
  });

  it('function call → tool call with JSON arguments, finish tool_calls', () => {
    const c = adapter.chat.parseResponse(JSON.parse(read('google-tool-call.json')), ctx);
    const m = c.choices[0]!.message;
    expect(m.content).toBeNull();
    expect(m.tool_calls).toEqual([{ id: 'call_rq1_0', type: 'function', function: { name: 'weather', arguments: '{"location":"San Francisco"}' } }]);
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('reasoning capture: thoughts not included, their count is', () => {
    const c = adapter.chat.parseResponse(JSON.parse(read('google-reasoning.json')), ctx);
    expect(c.choices[0]!.message.reasoning_content).toBeUndefined();
    expect(c.usage!.completion_tokens_details).toEqual({ reasoning_tokens: 282 });
  });

  it('JSON output (pydantic-ai cassette): the document is the content', () => {
    const doc = parse(read('test_google_native_output.yaml')) as { interactions: Array<{ response: { parsed_body: unknown } }> };
    const c = adapter.chat.parseResponse(doc.interactions[0]!.response.parsed_body, ctx);
    expect(JSON.parse(c.choices[0]!.message.content!)).toEqual({ city: 'Mexico City', country: 'Mexico' });
    expect(c.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 20, total_tokens: 28 });
  });

  it('thought parts → reasoning_content; SAFETY → content_filter; MAX_TOKENS → length; several candidates; cached tokens', () => {
    const c = adapter.chat.parseResponse(
      {
        candidates: [
          { index: 0, content: { role: 'model', parts: [{ text: 'plan', thought: true }, { text: 'answer' }] }, finishReason: 'MAX_TOKENS' },
          { index: 1, content: { role: 'model', parts: [] }, finishReason: 'SAFETY' },
        ],
        usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 5, cachedContentTokenCount: 60, totalTokenCount: 105 },
      },
      ctx,
    );
    expect(c.choices[0]).toEqual({ index: 0, message: { role: 'assistant', content: 'answer', reasoning_content: 'plan' }, finish_reason: 'length' });
    expect(c.choices[1]).toEqual({ index: 1, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' });
    expect(c.usage!.prompt_tokens_details).toEqual({ cached_tokens: 60 });
  });

  it('a blocked prompt (no candidates, promptFeedback) → content_filter; garbage → PROVIDER_ERROR', () => {
    const c = adapter.chat.parseResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 } }, ctx);
    expect(c.choices[0]!.finish_reason).toBe('content_filter');
    expect(() => adapter.chat.parseResponse({}, ctx)).toThrow(expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error);
  });
});
