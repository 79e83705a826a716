import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseError } from './errors.js';

function cassetteError(name: string): { status: number; body: string } {
  const text = readFileSync(new URL(`../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');
  const doc = parse(text) as { interactions: Array<{ response: { status: { code: number }; parsed_body: unknown } }> };
  const r = doc.interactions[0]!.response;
  return { status: r.status.code, body: JSON.stringify(r.parsed_body) };
}
const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

describe('anthropic parseError', () => {
  it('a real 400 invalid_request_error → INVALID_REQUEST with the upstream message', () => {
    const { status, body: b } = cassetteError('test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml');
    const e = parseError(status, b, {});
    expect(e).toMatchObject({ code: 'INVALID_REQUEST', status: 400, retryable: false });
    expect(e.message).toContain("effort level 'xhigh'");
  });

  it('a real 404 not_found_error → PROVIDER_ERROR 502, retryable (another target may have the model)', () => {
    const { status, body: b } = cassetteError('test_anthropic_count_tokens_error.yaml');
    expect(parseError(status, b, {})).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
  });

  it('prompt too long → CONTEXT_WINDOW_EXCEEDED', () => {
    expect(parseError(400, body('invalid_request_error', 'prompt is too long: 215000 tokens > 200000 maximum'), {})).toMatchObject({ code: 'CONTEXT_WINDOW_EXCEEDED', retryable: true });
  });

  it('authentication and permission errors → PROVIDER_ERROR, retryable (ADR 0006), message not passed on', () => {
    for (const [status, type] of [
      [401, 'authentication_error'],
      [403, 'permission_error'],
    ] as const) {
      const e = parseError(status, body(type, 'invalid x-api-key sk-ant-abc'), {});
      expect(e).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
      expect(e.message).not.toContain('sk-ant');
    }
  });

  it('429 rate_limit_error → PROVIDER_RATE_LIMITED with retry-after', () => {
    expect(parseError(429, body('rate_limit_error', 'slow down'), { 'retry-after': '12' })).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryable: true, retryAfterSeconds: 12 });
  });

  it('500 api_error and 529 overloaded_error → PROVIDER_UNAVAILABLE, retryable', () => {
    expect(parseError(500, body('api_error', 'Internal server error'), {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(parseError(529, body('overloaded_error', 'Overloaded'), {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
  });

  it('413 and 504 and bodies that are not JSON are mapped by status', () => {
    expect(parseError(413, body('request_too_large', 'too big'), {})).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(parseError(504, '<html>gateway timeout</html>', {})).toMatchObject({ code: 'PROVIDER_TIMEOUT', retryable: true });
    expect(parseError(529, '', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(parseError(502, 'bad gateway', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(parseError(418, 'teapot', {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: false });
  });
});
