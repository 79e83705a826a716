import { GatewayError } from '@gw/contracts';
import { credentialsRejected } from '../shared/errors.js';
import { retryAfterSeconds } from '../openai-compatible/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Gemini errors: `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}}` (google.rpc
 * Status), as a non-2xx answer or as an event inside a stream. The `status` decides; the HTTP status is the fallback:
 * - INVALID_ARGUMENT (400): INVALID_REQUEST with the upstream message; an input over the context window is
 *   CONTEXT_WINDOW_EXCEEDED. An invalid API key is also a 400 INVALID_ARGUMENT, with the ErrorInfo reason
 *   API_KEY_INVALID: that is the gateway's configuration, handled as UNAUTHENTICATED below.
 * - UNAUTHENTICATED (401), PERMISSION_DENIED (403), FAILED_PRECONDITION (400, e.g. region or billing):
 *   PROVIDER_ERROR 502, retryable (the next target may hold a working key; ADR 0006); the message is not passed on.
 * - NOT_FOUND (404): the configured model does not exist there: PROVIDER_ERROR 502, retryable.
 * - RESOURCE_EXHAUSTED (429): PROVIDER_RATE_LIMITED; the delay is the RetryInfo `retryDelay` ("34.4s") or the
 *   retry-after header, rounded up to whole seconds.
 * - UNAVAILABLE (503): PROVIDER_UNAVAILABLE; INTERNAL (500): PROVIDER_ERROR; DEADLINE_EXCEEDED (504):
 *   PROVIDER_TIMEOUT; all retryable.
 */

const CONTEXT_OVERFLOW = /exceeds the maximum number of tokens|input token count.*exceeds|context (window|length)|too many tokens/i;

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export type GeminiErrorBody = { status: string | null; message: string | null; details: unknown[] };

export function readGeminiError(body: string): GeminiErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { status: null, message: text ? text.slice(0, 500) : null, details: [] };
  }
  // a stream error can come as an array of one status object
  const root = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | null;
  const inner = root && typeof root === 'object' ? root['error'] : null;
  const e = (inner && typeof inner === 'object' ? inner : {}) as Record<string, unknown>;
  return {
    status: typeof e['status'] === 'string' ? e['status'] : null,
    message: typeof e['message'] === 'string' ? e['message'] : null,
    details: Array.isArray(e['details']) ? (e['details'] as unknown[]) : [],
  };
}

function detail(details: unknown[], type: string): Record<string, unknown> | null {
  for (const d of details) {
    if (d && typeof d === 'object' && (d as Record<string, unknown>)['@type'] === `type.googleapis.com/google.rpc.${type}`) return d as Record<string, unknown>;
  }
  return null;
}

/** RetryInfo.retryDelay ("34.4s") in whole seconds. */
function retryDelaySeconds(details: unknown[]): number | undefined {
  const delay = detail(details, 'RetryInfo')?.['retryDelay'];
  if (typeof delay !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
  return m ? Math.ceil(Number(m[1])) : undefined;
}

export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  const e = readGeminiError(body);
  const upstream = e.message ?? `status ${status}`;
  let kind = e.status ?? STATUS_BY_CODE[status] ?? (status >= 500 ? 'INTERNAL' : null);
  if (kind === 'INVALID_ARGUMENT' && detail(e.details, 'ErrorInfo')?.['reason'] === 'API_KEY_INVALID') kind = 'UNAUTHENTICATED';
  switch (kind) {
    case 'INVALID_ARGUMENT':
    case 'OUT_OF_RANGE':
      if (CONTEXT_OVERFLOW.test(upstream)) return new GatewayError('CONTEXT_WINDOW_EXCEEDED', upstream, { param: 'messages' });
      return new GatewayError('INVALID_REQUEST', upstream);
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
    case 'FAILED_PRECONDITION':
      return credentialsRejected(kind);
    case 'NOT_FOUND':
      return new GatewayError('PROVIDER_ERROR', `upstream: ${upstream}`, { status: 502, retryable: true });
    case 'RESOURCE_EXHAUSTED': {
      const after = retryDelaySeconds(e.details) ?? retryAfterSeconds(headers);
      return new GatewayError('PROVIDER_RATE_LIMITED', 'the upstream provider is rate limiting the gateway', after !== undefined ? { retryAfterSeconds: after } : {});
    }
    case 'UNAVAILABLE':
      return new GatewayError('PROVIDER_UNAVAILABLE', 'the upstream provider is unavailable');
    case 'DEADLINE_EXCEEDED':
      return new GatewayError('PROVIDER_TIMEOUT', 'the upstream provider timed out');
    case 'INTERNAL':
      return new GatewayError('PROVIDER_ERROR', `the upstream provider failed (${status})`, { retryable: true });
    default:
      return new GatewayError('PROVIDER_ERROR', `unexpected upstream answer (${status}): ${upstream}`, { status: 502, retryable: status >= 500 || status < 300 });
  }
}
