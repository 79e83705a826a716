import { GatewayError, type ErrorCode } from '@gw/contracts';

/** The OpenAI error body: `{"error":{"message","type","param","code"}}`. */
export type OpenAIErrorBody = { error: { message: string; type: string; param: string | null; code: string } };

/**
 * OpenAI's `type` and `code` for each gateway code. The SDKs pick their exception class by the HTTP status;
 * `type`/`code` follow OpenAI's own values where OpenAI has one (invalid_api_key, model_not_found,
 * rate_limit_exceeded, content_policy_violation; `budget_exceeded` for a budget), else the gateway code in lower case.
 */
const OPENAI: Record<ErrorCode, { type: string; code: string }> = {
  INVALID_REQUEST: { type: 'invalid_request_error', code: 'invalid_request' },
  UNAUTHENTICATED: { type: 'invalid_request_error', code: 'invalid_api_key' },
  FORBIDDEN: { type: 'permission_error', code: 'permission_denied' },
  MODEL_NOT_FOUND: { type: 'invalid_request_error', code: 'model_not_found' },
  NOT_FOUND: { type: 'invalid_request_error', code: 'not_found' },
  PAYLOAD_TOO_LARGE: { type: 'invalid_request_error', code: 'payload_too_large' },
  RATE_LIMITED: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  BUDGET_EXCEEDED: { type: 'insufficient_quota', code: 'budget_exceeded' },
  MODERATION_BLOCKED: { type: 'invalid_request_error', code: 'content_policy_violation' },
  CONTEXT_WINDOW_EXCEEDED: { type: 'invalid_request_error', code: 'context_length_exceeded' },
  PROVIDER_ERROR: { type: 'server_error', code: 'provider_error' },
  PROVIDER_RATE_LIMITED: { type: 'rate_limit_error', code: 'provider_rate_limited' },
  PROVIDER_TIMEOUT: { type: 'server_error', code: 'provider_timeout' },
  PROVIDER_UNAVAILABLE: { type: 'server_error', code: 'provider_unavailable' },
  SERVICE_UNAVAILABLE: { type: 'server_error', code: 'service_unavailable' },
  DEADLINE_EXCEEDED: { type: 'server_error', code: 'deadline_exceeded' },
  CANCELLED: { type: 'invalid_request_error', code: 'cancelled' },
  INTERNAL: { type: 'server_error', code: 'internal_error' },
};

export function openAIError(err: GatewayError): { status: number; body: OpenAIErrorBody } {
  const m = OPENAI[err.code];
  // a status outside 4xx/5xx (a malformed frame) is never sent to a client
  const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  return { status, body: { error: { message: err.message, type: m.type, param: err.param, code: m.code } } };
}

/** A zod-like issue path as the OpenAI `param`: `messages[0].content`. */
export function paramPath(path: ReadonlyArray<PropertyKey>): string | null {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || null;
}

type FastifyLikeError = { code?: unknown; statusCode?: unknown; message?: unknown };

/**
 * Any error that reaches the edge → a GatewayError, without leaking what it does not know: Fastify's own body
 * errors (too large, bad media type, bad JSON) keep their status and a fixed message; anything else is INTERNAL.
 */
export function toGatewayError(err: unknown, maxBodyBytes: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = (err && typeof err === 'object' ? err : {}) as FastifyLikeError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError('INVALID_REQUEST', 'unsupported content type: send application/json', { status: 415 });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('INVALID_REQUEST', 'request body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('INVALID_REQUEST', 'content-length does not match the body');
    default:
      break;
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 404) return new GatewayError('NOT_FOUND', 'not found');
  if (status === 415) return new GatewayError('INVALID_REQUEST', 'unsupported content type: send application/json', { status: 415 });
  if (status === 413) return new GatewayError('PAYLOAD_TOO_LARGE', `request body is larger than ${maxBodyBytes} bytes`);
  if (status >= 400 && status < 500) return new GatewayError('INVALID_REQUEST', 'bad request', { status });
  return new GatewayError('INTERNAL', 'internal error');
}
