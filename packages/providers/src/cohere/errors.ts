import { GatewayError } from '@gw/contracts';
import { retryAfterSeconds } from '../openai-compatible/errors.js';
import { credentialsRejected } from '../shared/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Cohere errors: `{"id":"...","message":"..."}` (v2; older answers have `{"message":"..."}` only), the status
 * decides:
 * - 400/422: INVALID_REQUEST with the upstream message; a prompt over the context window ("too many tokens")
 *   is CONTEXT_WINDOW_EXCEEDED (retryable).
 * - 401/402/403: PROVIDER_ERROR 502, retryable, message not passed on (ADR 0006).
 * - 404 (model not found): PROVIDER_ERROR 502, retryable. 413: PAYLOAD_TOO_LARGE.
 * - 429 (rate or trial limit): PROVIDER_RATE_LIMITED with retry-after. 499 (request cancelled), 500:
 *   PROVIDER_ERROR; 503: PROVIDER_UNAVAILABLE; 504: PROVIDER_TIMEOUT; all retryable.
 * - 200: an error event or a `message-end` with an error inside a stream: PROVIDER_ERROR, retryable.
 */

const CONTEXT_OVERFLOW = /too many tokens|context (window|length)|exceeds? the maximum/i;

export function readCohereMessage(body: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return text ? text.slice(0, 500) : null;
  }
  const root = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const m = root['message'] ?? root['error'];
  if (typeof m === 'string') return m;
  if (m && typeof m === 'object' && typeof (m as Record<string, unknown>)['message'] === 'string')
    return (m as Record<string, string>)['message'] ?? null;
  return null;
}

export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  const upstream = readCohereMessage(body) ?? `status ${status}`;
  if (status === 400 || status === 422) {
    if (CONTEXT_OVERFLOW.test(upstream))
      return new GatewayError('CONTEXT_WINDOW_EXCEEDED', upstream, { param: 'messages' });
    return new GatewayError('INVALID_REQUEST', upstream);
  }
  if (status === 401 || status === 402 || status === 403) return credentialsRejected(status);
  if (status === 404)
    return new GatewayError('PROVIDER_ERROR', `upstream: ${upstream}`, { status: 502, retryable: true });
  if (status === 413) return new GatewayError('PAYLOAD_TOO_LARGE', upstream);
  if (status === 429) {
    const after = retryAfterSeconds(headers);
    return new GatewayError(
      'PROVIDER_RATE_LIMITED',
      'the upstream provider is rate limiting the gateway',
      after !== undefined ? { retryAfterSeconds: after } : {},
    );
  }
  if (status === 503 || status === 529)
    return new GatewayError('PROVIDER_UNAVAILABLE', `the upstream provider is unavailable (${status})`);
  if (status === 408 || status === 504)
    return new GatewayError('PROVIDER_TIMEOUT', `the upstream provider timed out (${status})`);
  if (status >= 500 || status === 499)
    return new GatewayError('PROVIDER_ERROR', `the upstream provider failed (${status})`);
  if (status >= 200 && status < 300) return new GatewayError('PROVIDER_ERROR', `upstream error: ${upstream}`);
  return new GatewayError('PROVIDER_ERROR', `unexpected upstream answer (${status}): ${upstream}`, {
    status: 502,
    retryable: false,
  });
}
