import { GatewayError } from '@gw/contracts';
import { credentialsRejected } from '../shared/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Maps an OpenAI-style error answer (`{"error":{message,type,param,code}}`) to a GatewayError.
 *
 * Decisions (see packages/providers/README.md):
 * - 400/422: INVALID_REQUEST with the upstream message and param (the client can fix its request), except a
 *   context-length overflow, which is CONTEXT_WINDOW_EXCEEDED (retryable: another target may have a larger window).
 * - 401/402/403: PROVIDER_ERROR, HTTP 502, retryable (ADR 0006: one rule for every provider). The gateway's credentials for this provider are wrong; the
 *   client cannot fix that, and the next target (often another provider) may answer. The upstream message is
 *   not passed on: OpenAI echoes part of the key in it.
 * - 404: the configured upstream model does not exist there: PROVIDER_ERROR (502), retryable.
 * - 408/504: PROVIDER_TIMEOUT; 429: PROVIDER_RATE_LIMITED with retryAfterSeconds; 503/529: PROVIDER_UNAVAILABLE;
 *   other 5xx: PROVIDER_ERROR; all retryable.
 * - 200 (an error event inside a stream): PROVIDER_ERROR, retryable.
 */

type OpenAiErrorBody = { message: string | null; type: string | null; code: string | null; param: string | null };

const CONTEXT_PATTERNS = /context[_ ]length|context window|maximum context|too many tokens|prompt is too long|reduce the length/i;

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : null;
}

/** The error fields of a body, whatever the shape: `{error:{...}}`, `{error:"..."}`, `{message}`, or text. */
export function readErrorBody(body: string): OpenAiErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = body.trim();
    return { message: text ? text.slice(0, 500) : null, type: null, code: null, param: null };
  }
  const root = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const inner = root['error'];
  if (typeof inner === 'string') return { message: inner, type: null, code: null, param: null };
  const e = (inner && typeof inner === 'object' ? inner : root) as Record<string, unknown>;
  return { message: str(e['message']), type: str(e['type']), code: str(e['code']), param: str(e['param']) };
}

function header(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `retry-after` (seconds or an HTTP date) or `retry-after-ms`, as whole seconds; undefined when absent or bad. */
export function retryAfterSeconds(headers: UpstreamHeaders, now = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms) / 1000);
  const v = header(headers, 'retry-after')?.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function isContextOverflow(e: OpenAiErrorBody): boolean {
  return e.code === 'context_length_exceeded' || (e.message !== null && CONTEXT_PATTERNS.test(e.message));
}

export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  const e = readErrorBody(body);
  const upstream = e.message ?? `status ${status}`;
  if (isContextOverflow(e)) return new GatewayError('CONTEXT_WINDOW_EXCEEDED', upstream, { param: e.param ?? 'messages' });
  if (status === 400 || status === 422) return new GatewayError('INVALID_REQUEST', upstream, { param: e.param });
  if (status === 413) return new GatewayError('PAYLOAD_TOO_LARGE', upstream);
  if (status === 401 || status === 402 || status === 403) return credentialsRejected(status);
  if (status === 404) return new GatewayError('PROVIDER_ERROR', `upstream: ${upstream}`, { status: 502, retryable: true });
  if (status === 429) {
    const after = retryAfterSeconds(headers);
    const quota = e.code === 'insufficient_quota' || e.type === 'insufficient_quota';
    const message = quota ? 'the upstream provider quota is exhausted' : 'the upstream provider is rate limiting the gateway';
    return new GatewayError('PROVIDER_RATE_LIMITED', message, after !== undefined ? { retryAfterSeconds: after } : {});
  }
  if (status === 408 || status === 504) return new GatewayError('PROVIDER_TIMEOUT', `the upstream provider timed out (${status})`);
  if (status === 503 || status === 529) return new GatewayError('PROVIDER_UNAVAILABLE', `the upstream provider is unavailable (${status})`);
  if (status >= 500) return new GatewayError('PROVIDER_ERROR', `the upstream provider failed (${status})`);
  if (status >= 200 && status < 300) return new GatewayError('PROVIDER_ERROR', `upstream error: ${upstream}`);
  return new GatewayError('PROVIDER_ERROR', `unexpected upstream answer (${status}): ${upstream}`, { status: 502, retryable: false });
}
