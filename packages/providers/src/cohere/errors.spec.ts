import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fixture } from '../shared/spec-helpers.js';
import { parseError } from './errors.js';

describe('cohere parseError', () => {
  it('404 from a recorded cassette: retryable provider error with the upstream message', () => {
    const c = parse(fixture('cohere/TestCohere.test_embed_error.yaml')) as {
      interactions: Array<{ response: { status: { code: number }; parsed_body: unknown } }>;
    };
    const r = c.interactions[0]!.response;
    const e = parseError(r.status.code, JSON.stringify(r.parsed_body), {});
    expect(e).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
    expect(e.message).toContain("model 'nonexistent' not found");
  });
  it('400/422 → INVALID_REQUEST with the message; too many tokens → CONTEXT_WINDOW_EXCEEDED', () => {
    expect(
      parseError(400, '{"id":"x","message":"invalid request: tool_choice must be REQUIRED or NONE"}', {}),
    ).toMatchObject({
      code: 'INVALID_REQUEST',
      status: 400,
      message: 'invalid request: tool_choice must be REQUIRED or NONE',
    });
    expect(parseError(422, '{"message":"invalid field"}', {}).code).toBe('INVALID_REQUEST');
    expect(
      parseError(
        400,
        '{"message":"too many tokens: total number of tokens in the prompt cannot exceed 128000"}',
        {},
      ).code,
    ).toBe('CONTEXT_WINDOW_EXCEEDED');
  });
  it('401/402/403 → PROVIDER_ERROR 502, retryable (ADR 0006), message not passed on', () => {
    for (const s of [401, 402, 403]) {
      const e = parseError(s, '{"message":"invalid api token co-abc123"}', {});
      expect(e).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
      expect(e.message).not.toContain('co-abc');
    }
  });
  it('429 with retry-after, 503, 504, 500, 499, non-JSON', () => {
    expect(parseError(429, '{"message":"You are using a Trial key"}', { 'retry-after': '30' })).toMatchObject(
      { code: 'PROVIDER_RATE_LIMITED', status: 429, retryable: true, retryAfterSeconds: 30 },
    );
    expect(parseError(503, '', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(parseError(504, '', {})).toMatchObject({ code: 'PROVIDER_TIMEOUT', retryable: true });
    expect(parseError(500, '<html>oops</html>', {})).toMatchObject({
      code: 'PROVIDER_ERROR',
      retryable: true,
    });
    expect(parseError(499, '{"message":"request cancelled"}', {})).toMatchObject({
      code: 'PROVIDER_ERROR',
      retryable: true,
    });
    expect(parseError(418, 'teapot', {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: false });
  });
});
