import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseError, retryAfterSeconds } from './errors.js';

const fixture = (p: string) => readFileSync(new URL(`../../test/fixtures/${p}`, import.meta.url), 'utf8');
type Cassette = { interactions: Array<{ response: { status: { code: number }; parsed_body: unknown; headers: Record<string, string[]> } }> };

describe('parseError (OpenAI-compatible)', () => {
  it('400 with a real OpenAI body: INVALID_REQUEST keeps the upstream message and param', () => {
    const e = parseError(400, fixture('openai/reasoning-model-legacy-parameter-error.json'), {});
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.status).toBe(400);
    expect(e.retryable).toBe(false);
    expect(e.param).toBe('max_tokens');
    expect(e.message).toContain("Use 'max_completion_tokens' instead");
  });

  it('400 from a recorded cassette (status and body as captured)', () => {
    const c = parse(fixture('openai/test_openai_o1_mini_system_role[system].yaml')) as Cassette;
    const r = c.interactions[0]!.response;
    const e = parseError(r.status.code, JSON.stringify(r.parsed_body), {});
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.param).toBe('messages[0].role');
    expect(e.message).toContain("does not support 'system'");
  });

  it('404 model_not_found (embeddings cassette): PROVIDER_ERROR 502, retryable (next target)', () => {
    const c = parse(fixture('openai/TestOpenAI.test_embed_error.yaml')) as Cassette;
    const r = c.interactions[0]!.response;
    const e = parseError(r.status.code, JSON.stringify(r.parsed_body), {});
    expect(r.status.code).toBe(404);
    expect(e).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
  });

  it('429 insufficient_quota with retry-after seconds', () => {
    const e = parseError(429, fixture('openai/openai-error.1.json'), { 'retry-after': '7' });
    expect(e).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryable: true, retryAfterSeconds: 7 });
    expect(e.message).toContain('quota');
  });

  it('429 with retry-after as an HTTP date, or retry-after-ms, or none', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30);
    expect(retryAfterSeconds({ 'retry-after': ['2.5'] }, now)).toBe(3);
    expect(retryAfterSeconds({ 'retry-after-ms': '1200' }, now)).toBe(2);
    expect(retryAfterSeconds({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseError(429, '', {}).retryAfterSeconds).toBeUndefined();
  });

  it('401/403: PROVIDER_ERROR 502, retryable, without the upstream message (it may echo the key)', () => {
    const body = JSON.stringify({ error: { message: 'Incorrect API key provided: sk-abc***xyz.', type: 'invalid_request_error', code: 'invalid_api_key' } });
    for (const status of [401, 403]) {
      const e = parseError(status, body, {});
      expect(e).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
      expect(e.message).not.toContain('sk-');
    }
  });

  it('5xx and timeouts are retryable provider failures', () => {
    expect(parseError(500, '{"error":{"message":"boom"}}', {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(parseError(502, 'Bad gateway', {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(parseError(503, '', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', status: 503, retryable: true });
    expect(parseError(529, '', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(parseError(504, '', {})).toMatchObject({ code: 'PROVIDER_TIMEOUT', retryable: true });
  });

  it('context length exceeded: by code, or by message from compatible servers', () => {
    const byCode = JSON.stringify({ error: { message: "This model's maximum context length is 128000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
    expect(parseError(400, byCode, {})).toMatchObject({ code: 'CONTEXT_WINDOW_EXCEEDED', status: 400, retryable: true });
    const byText = JSON.stringify({ message: 'Prompt contains 40000 tokens, too many tokens for model context window', object: 'error' });
    expect(parseError(400, byText, {}).code).toBe('CONTEXT_WINDOW_EXCEEDED');
  });

  it('an unknown 4xx is a non-retryable provider error; non-JSON bodies are handled', () => {
    expect(parseError(418, '<html>teapot</html>', {})).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: false });
  });
});
