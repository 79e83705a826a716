import { GatewayError, type ChatCompletionRequest } from '@gw/contracts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ctx, fixture } from '../shared/spec-helpers.js';
import type { ResolvedProvider } from '../types.js';
import { DEFAULT_API_VERSION } from './chat.js';
import { parseError } from './errors.js';
import { adapter } from './index.js';

const provider: ResolvedProvider = {
  id: 'az',
  type: 'azure-openai',
  baseUrl: 'https://res.openai.azure.com/',
  apiKey: 'az-key',
  headers: {},
  options: {},
};
const req: ChatCompletionRequest = {
  model: 'client-name',
  messages: [
    { role: 'developer', content: 'be brief' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
      name: 'ann',
    },
  ],
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
  tool_choice: 'required',
  parallel_tool_calls: true,
  response_format: { type: 'json_schema', json_schema: { name: 'o', schema: { type: 'object' } } },
  seed: 3,
  n: 2,
  logprobs: true,
  user: 'u1',
};
const drop = { unsupportedParams: 'drop' } as const;
const dep = { ...ctx, model: 'gpt-4o-prod' };

describe('azure-openai buildRequest', () => {
  it('deployment URL with the default api-version, the api-key header, the OpenAI body unchanged', () => {
    const r = adapter.chat.buildRequest(req, false, provider, dep, drop);
    expect(r.url).toBe(
      `https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions?api-version=${DEFAULT_API_VERSION}`,
    );
    expect(r.headers['api-key']).toBe('az-key');
    expect(r.headers['authorization']).toBeUndefined();
    const body = JSON.parse(r.body as string) as Record<string, unknown>;
    expect(body).toMatchObject({
      messages: req.messages,
      tools: req.tools,
      tool_choice: 'required',
      response_format: req.response_format,
      seed: 3,
      n: 2,
      logprobs: true,
      user: 'u1',
    });
  });
  it('apiVersion from the provider options; an Entra token replaces the key; stream asks for usage', () => {
    const p = { ...provider, options: { apiVersion: '2025-04-01-preview', entraToken: 'eyJ.entra' } };
    const r = adapter.chat.buildRequest(req, true, p, dep, drop);
    expect(r.url).toContain('?api-version=2025-04-01-preview');
    expect(r.headers['authorization']).toBe('Bearer eyJ.entra');
    expect(r.headers['api-key']).toBeUndefined();
    expect(JSON.parse(r.body as string)).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });
  it('embeddings on the deployment path', () => {
    const r = adapter.embeddings!.buildRequest({ model: 'x', input: ['a'] }, provider, {
      ...ctx,
      model: 'emb-3',
    });
    expect(r.url).toBe(
      `https://res.openai.azure.com/openai/deployments/emb-3/embeddings?api-version=${DEFAULT_API_VERSION}`,
    );
    expect(r.headers['api-key']).toBe('az-key');
  });
});

describe('azure-openai responses (real capture)', () => {
  it('a recorded chat completion parses, content filter results kept', () => {
    const cas = parse(fixture('azure/test_azure_provider_call.yaml')) as {
      interactions: Array<{ request: { uri: string }; response: { parsed_body: unknown } }>;
    };
    const i = cas.interactions[0]!;
    expect(i.request.uri).toContain('/openai/deployments/gpt-4o/chat/completions?api-version=');
    const c = adapter.chat.parseResponse(i.response.parsed_body, ctx);
    expect(c.choices[0]!.message.content).toBe('The capital of France is **Paris**.');
    expect(c.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 9 });
    expect((c as unknown as { prompt_filter_results: unknown[] }).prompt_filter_results).toHaveLength(1);
  });
  it('a streamed finish_reason content_filter passes through', () => {
    const t = adapter.chat.createStreamTranslator(ctx);
    const [chunk] = t.push({
      data: JSON.stringify({
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'gpt-4o',
        choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }],
      }),
    });
    expect(chunk!.choices[0]!.finish_reason).toBe('content_filter');
    // Azure's first chunk carries only prompt_filter_results, with no choices
    expect(
      t.push({
        data: JSON.stringify({
          id: '',
          object: '',
          created: 0,
          model: '',
          choices: [],
          prompt_filter_results: [],
        }),
      }),
    ).toHaveLength(1);
  });
});

describe('azure-openai errors', () => {
  it('the content filter refusing a prompt is MODERATION_BLOCKED, not retried', () => {
    const body = JSON.stringify({
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: 'prompt',
        code: 'content_filter',
        status: 400,
        innererror: {
          code: 'ResponsibleAIPolicyViolation',
          content_filter_result: { violence: { filtered: true, severity: 'high' } },
        },
      },
    });
    const e = parseError(400, body, {});
    expect(e).toBeInstanceOf(GatewayError);
    expect(e).toMatchObject({ code: 'MODERATION_BLOCKED', retryable: false });
    expect(e.message).toContain('content management policy');
  });
  it('401 (Azure body) → retryable PROVIDER_ERROR 502 (ADR 0006); 429 carries retry-after; 404 DeploymentNotFound retryable; other 400 invalid', () => {
    expect(
      parseError(
        401,
        '{"error":{"code":"401","message":"Access denied due to invalid subscription key"}}',
        {},
      ),
    ).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
    expect(
      parseError(
        429,
        '{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded the rate limit. Please retry after 6 seconds."}}',
        { 'retry-after': '6' },
      ),
    ).toMatchObject({
      code: 'PROVIDER_RATE_LIMITED',
      retryAfterSeconds: 6,
    });
    expect(
      parseError(
        404,
        '{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}',
        {},
      ),
    ).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(
      parseError(
        400,
        '{"error":{"code":"BadRequest","message":"content_filter is mentioned but this is a plain bad request"}}',
        {},
      ),
    ).toMatchObject({ code: 'INVALID_REQUEST' });
  });
});
