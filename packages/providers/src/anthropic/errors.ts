import { GatewayError } from '@gw/contracts';
import { credentialsRejected } from '../shared/errors.js';
import { retryAfterSeconds } from '../openai-compatible/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Anthropic errors: `{"type":"error","error":{"type":"...","message":"..."},"request_id":"..."}`, as a non-2xx
 * answer or as an `error` event inside a 200 stream. The error `type` decides (the status is the fallback when the
 * body has no type):
 * - invalid_request_error (400): INVALID_REQUEST with the upstream message; a prompt longer than the context
 *   window is CONTEXT_WINDOW_EXCEEDED (retryable: another target may have a larger window).
 * - authentication_error (401), permission_error (403), billing_error (402): PROVIDER_ERROR 502, retryable (the
 *   next target may hold a working key; ADR 0006); the message is not passed on, it may quote the key.
 * - not_found_error (404): the configured model does not exist there: PROVIDER_ERROR 502, retryable.
 * - request_too_large (413): PAYLOAD_TOO_LARGE.
 * - rate_limit_error (429): PROVIDER_RATE_LIMITED with retry-after.
 * - api_error (500), overloaded_error (529): PROVIDER_UNAVAILABLE, retryable. timeout_error (504): PROVIDER_TIMEOUT.
 */

const CONTEXT_OVERFLOW = /prompt is too long|exceeds? (the )?(model'?s? )?context|context (window|limit)|too many (input )?tokens/i;

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export type AnthropicErrorBody = { type: string | null; message: string | null };

export function readAnthropicError(body: string): AnthropicErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { type: null, message: text ? text.slice(0, 500) : null };
  }
  const root = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const inner = root['error'];
  const e = (inner && typeof inner === 'object' ? inner : root) as Record<string, unknown>;
  const type = typeof e['type'] === 'string' && e['type'] !== 'error' ? e['type'] : null;
  const message = typeof e['message'] === 'string' ? e['message'] : typeof inner === 'string' ? inner : null;
  return { type, message };
}

export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  const e = readAnthropicError(body);
  const upstream = e.message ?? `status ${status}`;
  const type = e.type ?? TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : null);
  switch (type) {
    case 'invalid_request_error':
      if (CONTEXT_OVERFLOW.test(upstream)) return new GatewayError('CONTEXT_WINDOW_EXCEEDED', upstream, { param: 'messages' });
      return new GatewayError('INVALID_REQUEST', upstream);
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return credentialsRejected(type);
    case 'not_found_error':
      return new GatewayError('PROVIDER_ERROR', `upstream: ${upstream}`, { status: 502, retryable: true });
    case 'request_too_large':
      return new GatewayError('PAYLOAD_TOO_LARGE', upstream);
    case 'rate_limit_error': {
      const after = retryAfterSeconds(headers);
      return new GatewayError('PROVIDER_RATE_LIMITED', 'the upstream provider is rate limiting the gateway', after !== undefined ? { retryAfterSeconds: after } : {});
    }
    case 'timeout_error':
      return new GatewayError('PROVIDER_TIMEOUT', 'the upstream provider timed out');
    case 'api_error':
    case 'overloaded_error': {
      const after = retryAfterSeconds(headers);
      return new GatewayError('PROVIDER_UNAVAILABLE', `the upstream provider is unavailable (${type})`, after !== undefined ? { retryAfterSeconds: after } : {});
    }
    default:
      return new GatewayError('PROVIDER_ERROR', `unexpected upstream answer (${status}): ${upstream}`, { status: 502, retryable: status >= 500 || status < 300 });
  }
}
