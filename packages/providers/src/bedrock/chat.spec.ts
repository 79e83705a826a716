import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ChatCompletionRequest } from '@gw/contracts';
import type { TranslateOptions } from '../types.js';
import { expandBaseUrl } from '../shared/base-url.js';
import type { ConverseRequest } from './chat.js';
import { optionsFromEnv } from './auth.js';
import { adapter } from './index.js';
import { BEDROCK_CREDS, BEDROCK_CTX, BEDROCK_PROVIDER, readBedrockFixture } from './spec-helpers.js';

const ctx = BEDROCK_CTX;
const creds = BEDROCK_CREDS;
const provider = BEDROCK_PROVIDER;
const drop: TranslateOptions = { unsupportedParams: 'drop' };
const reject: TranslateOptions = { unsupportedParams: 'reject' };
const PNG = 'data:image/png;base64,iVBORw0KGgo=';

function build(req: Partial<ChatCompletionRequest>, stream = false, opts = drop, p = provider) {
  const full = { model: 'b', messages: [{ role: 'user', content: 'hi' }], ...req } as ChatCompletionRequest;
  const up = adapter.chat.buildRequest(full, stream, p, ctx, opts);
  return { up, body: JSON.parse(up.body as string) as ConverseRequest };
}
const read = readBedrockFixture;
const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'weather',
      description: 'w',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
  { type: 'function' as const, function: { name: 'now' } },
];

describe('bedrock buildRequest', () => {
  it('addresses /model/{id}/converse and /converse-stream, with a SigV4 signature over the body', () => {
    const { up, body } = build({});
    expect(up.url).toBe(
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse',
    );
    expect(up.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(up.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(body).toEqual({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
    const s = build({}, true);
    expect(s.up.url.endsWith('/converse-stream')).toBe(true);
    expect(s.up.headers['accept']).toBe('application/vnd.amazon.eventstream');
  });

  it('a session token is sent and signed; a configured API key is a bearer token instead', () => {
    const withToken = build({}, false, drop, { ...provider, options: { ...creds, sessionToken: 'tok' } });
    expect(withToken.up.headers['x-amz-security-token']).toBe('tok');
    expect(withToken.up.headers['authorization']).toContain(
      'SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token,',
    );
    const bearer = build({}, false, drop, {
      ...provider,
      apiKey: 'bedrock-api-key',
      options: { region: 'us-east-1' },
    });
    expect(bearer.up.headers['authorization']).toBe('Bearer bedrock-api-key');
    expect(() => build({}, false, drop, { ...provider, options: { region: 'us-east-1' } })).toThrow(
      expect.objectContaining({ code: 'INTERNAL', retryable: true }) as Error,
    );
  });

  it('credentials and region: from options, else the AWS environment, never mixed; the default base URL names the region', () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'ENVKEY',
      AWS_SECRET_ACCESS_KEY: 'envsecret',
      AWS_SESSION_TOKEN: 'envtoken',
      AWS_DEFAULT_REGION: 'eu-west-3',
    };
    expect(optionsFromEnv({}, env)).toMatchObject({
      region: 'eu-west-3',
      accessKeyId: 'ENVKEY',
      secretAccessKey: 'envsecret',
      sessionToken: 'envtoken',
    });
    expect(optionsFromEnv({}, { ...env, AWS_REGION: 'us-west-2' })['region']).toBe('us-west-2');
    const configured = optionsFromEnv(
      { accessKeyId: 'CFG', secretAccessKey: 's', region: 'ap-south-1' },
      env,
    );
    expect(configured).toMatchObject({ accessKeyId: 'CFG', secretAccessKey: 's', region: 'ap-south-1' });
    expect(configured['sessionToken']).toBeUndefined();
    expect(expandBaseUrl(adapter.defaultBaseUrl!, configured, 'b')).toBe(
      'https://bedrock-runtime.ap-south-1.amazonaws.com',
    );
    expect(() => expandBaseUrl(adapter.defaultBaseUrl!, {}, 'b')).toThrow(/needs the option region/);
  });

  it('system and developer → system blocks; turns alternate; images as bytes; files as documents', () => {
    const { body } = build({
      messages: [
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: PNG } },
          ],
        },
        { role: 'developer', content: 'in French' },
        {
          role: 'user',
          content: [
            {
              type: 'file',
              file: { filename: 'report.v2.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
            },
          ],
        },
        { role: 'assistant', content: 'un chat' },
        { role: 'user', content: 'and?' },
      ],
    });
    expect(body.system).toEqual([{ text: 'be brief' }, { text: 'in French' }]);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { text: 'look' },
          { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } },
          { document: { format: 'pdf', name: 'report v2', source: { bytes: 'JVBERi0=' } } },
        ],
      },
      { role: 'assistant', content: [{ text: 'un chat' }] },
      { role: 'user', content: [{ text: 'and?' }] },
    ]);
  });

  it('an http image URL that was not fetched, an unsupported image type, audio: 400 naming the part', () => {
    const url = (u: string) =>
      build({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              { type: 'image_url', image_url: { url: u } },
            ],
          },
        ],
      });
    expect(() => url('https://example.com/cat.png')).toThrow(
      expect.objectContaining({
        code: 'INVALID_REQUEST',
        param: 'messages[0].content[1]',
        message: expect.stringMatching(/not fetched/) as string,
      }) as Error,
    );
    expect(() => url('data:image/tiff;base64,AAAA')).toThrow(
      expect.objectContaining({ param: 'messages[0].content[1]' }) as Error,
    );
    expect(() =>
      build({
        messages: [
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] },
        ],
      }),
    ).toThrow(/audio/);
  });

  it('tools → toolSpec; tool_choice auto/required/named → auto/any/tool', () => {
    const { body } = build({ tools });
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'weather',
            description: 'w',
            inputSchema: { json: tools[0]!.function.parameters },
          },
        },
        { toolSpec: { name: 'now', inputSchema: { json: { type: 'object', properties: {} } } } },
      ],
    });
    expect(build({ tools, tool_choice: 'auto' }).body.toolConfig?.toolChoice).toEqual({ auto: {} });
    expect(build({ tools, tool_choice: 'required' }).body.toolConfig?.toolChoice).toEqual({ any: {} });
    expect(
      build({ tools, tool_choice: { type: 'function', function: { name: 'now' } } }).body.toolConfig
        ?.toolChoice,
    ).toEqual({ tool: { name: 'now' } });
  });

  it('tool_choice none: tools left out; with tool calls in the history, tools sent (auto) or a 400 under reject', () => {
    expect(build({ tools, tool_choice: 'none' }).body.toolConfig).toBeUndefined();
    const history = {
      tools,
      tool_choice: 'none' as const,
      messages: [
        { role: 'user' as const, content: 'weather?' },
        {
          role: 'assistant' as const,
          content: null,
          tool_calls: [
            {
              id: 'c1',
              type: 'function' as const,
              function: { name: 'weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool' as const, tool_call_id: 'c1', content: '{"temp":21}' },
      ],
    };
    const { body } = build(history);
    expect(body.toolConfig?.tools).toHaveLength(2);
    expect(body.toolConfig?.toolChoice).toBeUndefined();
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'weather?' }] },
      {
        role: 'assistant',
        content: [{ toolUse: { toolUseId: 'c1', name: 'weather', input: { city: 'Paris' } } }],
      },
      { role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [{ text: '{"temp":21}' }] } }] },
    ]);
    expect(() => build(history, false, reject)).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', param: 'tool_choice' }) as Error,
    );
  });

  it('inferenceConfig: max tokens, temperature, topP, stop; top_k → additionalModelRequestFields', () => {
    const { body } = build({
      max_tokens: 99,
      max_completion_tokens: 50,
      temperature: 0.3,
      top_p: 0.8,
      stop: 'END',
      top_k: 5,
    });
    expect(body.inferenceConfig).toEqual({
      maxTokens: 50,
      temperature: 0.3,
      topP: 0.8,
      stopSequences: ['END'],
    });
    expect(body.additionalModelRequestFields).toEqual({ top_k: 5 });
  });

  it('json_schema and json_object → a forced JSON tool (the stated fallback)', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const { body } = build({
      tools,
      response_format: { type: 'json_schema', json_schema: { name: 'place', schema } },
    });
    expect(body.toolConfig?.toolChoice).toEqual({ tool: { name: 'gw_json_response' } });
    expect(body.toolConfig?.tools.at(-1)).toEqual({
      toolSpec: {
        name: 'gw_json_response',
        description: 'Respond with a JSON object (place).',
        inputSchema: { json: schema },
      },
    });
    expect(
      build({ response_format: { type: 'json_object' } }).body.toolConfig?.tools[0]!.toolSpec.inputSchema,
    ).toEqual({ json: { type: 'object' } });
  });

  it('parameters without an equivalent: dropped, or a 400 naming them under reject', () => {
    const extras = {
      n: 2,
      seed: 1,
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      logprobs: true,
      user: 'u1',
      parallel_tool_calls: false,
    };
    expect(Object.keys(build(extras).body)).toEqual(['messages']);
    for (const [k, v] of Object.entries(extras)) {
      expect(() => build({ [k]: v }, false, reject)).toThrow(
        expect.objectContaining({ code: 'INVALID_REQUEST', param: k }) as Error,
      );
    }
  });
});

describe('bedrock parseResponse (real captures)', () => {
  it('text: content, stop, usage', () => {
    const c = adapter.chat.parseResponse(JSON.parse(read('amazon-bedrock-text.json')), ctx);
    expect(c).toMatchObject({
      id: 'chatcmpl-rq1',
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
    });
    expect(c.choices[0]!.message.content).toBe(
      'Let me count the "r"s in "strawberry":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y\n\nThere are **3** "r"s in "strawberry."',
    );
    expect(c.choices[0]!.finish_reason).toBe('stop');
    expect(c.usage).toEqual({
      prompt_tokens: 22,
      completion_tokens: 57,
      total_tokens: 79,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('reasoning: reasoningContent → reasoning_content, then the text', () => {
    const c = adapter.chat.parseResponse(JSON.parse(read('amazon-bedrock-reasoning.json')), ctx);
    expect(c.choices[0]!.message.reasoning_content!.length).toBeGreaterThan(0);
    expect(c.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });

  it('tool use with thinking (pydantic-ai cassette): a tool call with {} arguments, finish tool_calls', () => {
    const doc = parse(read('test_bedrock_anthropic_tool_with_thinking.yaml')) as {
      interactions: Array<{ response: { parsed_body: unknown } }>;
    };
    const c = adapter.chat.parseResponse(doc.interactions[0]!.response.parsed_body, ctx);
    const m = c.choices[0]!.message;
    expect(m.tool_calls).toHaveLength(1);
    expect(m.tool_calls![0]!.function.arguments).toBe('{}');
    expect(m.tool_calls![0]!.id).toMatch(/^tooluse_/);
    expect(m.reasoning_content!.length).toBeGreaterThan(0);
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('the JSON tool comes back as content; stop reasons map; cache tokens count in the prompt', () => {
    const c = adapter.chat.parseResponse(
      {
        output: {
          message: {
            role: 'assistant',
            content: [{ toolUse: { toolUseId: 't', name: 'gw_json_response', input: { city: 'Paris' } } }],
          },
        },
        stopReason: 'tool_use',
        usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 7 },
      },
      ctx,
    );
    expect(c.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: '{"city":"Paris"}' },
      finish_reason: 'stop',
    });
    expect(c.usage).toEqual({
      prompt_tokens: 117,
      completion_tokens: 5,
      total_tokens: 122,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    const reason = (stopReason: string) =>
      adapter.chat.parseResponse({ output: { message: { content: [] } }, stopReason }, ctx).choices[0]!
        .finish_reason;
    expect([
      reason('max_tokens'),
      reason('guardrail_intervened'),
      reason('content_filtered'),
      reason('stop_sequence'),
    ]).toEqual(['length', 'content_filter', 'content_filter', 'stop']);
    expect(() => adapter.chat.parseResponse({ message: 'x' }, ctx)).toThrow(
      expect.objectContaining({ code: 'PROVIDER_ERROR' }) as Error,
    );
  });
});
