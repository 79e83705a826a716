import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseError } from './errors.js';

const read = (name: string) => readFileSync(new URL(`../../test/fixtures/google/${name}`, import.meta.url), 'utf8');
const body = (code: number, status: string, message = 'msg', details: unknown[] = []) => JSON.stringify({ error: { code, message, status, details } });

describe('gemini parseError', () => {
  it('the real 429 RESOURCE_EXHAUSTED body → PROVIDER_RATE_LIMITED, retry after RetryInfo 34.4s → 35', () => {
    expect(parseError(429, read('google-429-retry-info.json'), {})).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', status: 429, retryable: true, retryAfterSeconds: 35 });
    expect(parseError(429, body(429, 'RESOURCE_EXHAUSTED'), { 'retry-after': '3' })).toMatchObject({ retryAfterSeconds: 3 });
  });

  it('INVALID_ARGUMENT → INVALID_REQUEST with the message; over the context window → CONTEXT_WINDOW_EXCEEDED', () => {
    expect(parseError(400, body(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'), {})).toMatchObject({ code: 'INVALID_REQUEST', status: 400, message: 'Invalid JSON payload received.' });
    expect(parseError(400, body(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'), {})).toMatchObject({
      code: 'CONTEXT_WINDOW_EXCEEDED',
    });
  });

  it('an invalid API key (400 with reason API_KEY_INVALID), 401, 403 → PROVIDER_ERROR, retryable (ADR 0006: the next target may work)', () => {
    const keyInvalid = body(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]);
    for (const [status, b] of [
      [400, keyInvalid],
      [401, body(401, 'UNAUTHENTICATED')],
      [403, body(403, 'PERMISSION_DENIED')],
    ] as const) {
      expect(parseError(status, b, {})).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
    }
  });

  it('the real 404 NOT_FOUND (embeddings cassette) → PROVIDER_ERROR, retryable', () => {
    const b = JSON.stringify({ error: { code: 404, message: 'models/nonexistent-model is not found for API version v1beta', status: 'NOT_FOUND' } });
    expect(parseError(404, b, {})).toMatchObject({ code: 'PROVIDER_ERROR', status: 502, retryable: true });
  });

  it('UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED → retryable provider errors; unknown bodies by status', () => {
    expect(parseError(503, body(503, 'UNAVAILABLE'), {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true });
    expect(parseError(500, body(500, 'INTERNAL'), {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(parseError(504, body(504, 'DEADLINE_EXCEEDED'), {})).toMatchObject({ code: 'PROVIDER_TIMEOUT', retryable: true });
    expect(parseError(503, 'Service Unavailable', {})).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(parseError(502, '', {})).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
  });
});
