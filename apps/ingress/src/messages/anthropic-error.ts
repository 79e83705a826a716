import type { AnthropicErrorBody, AnthropicErrorType, ErrorCode, GatewayError } from '@gw/contracts';

/**
 * Anthropic's `error.type` for each gateway code (the SDKs pick their exception class by the HTTP status, which is
 * the code's own). A provider that is unavailable or overloaded is `overloaded_error`, as Anthropic reports its own.
 */
const ANTHROPIC: Record<ErrorCode, AnthropicErrorType> = {
  INVALID_REQUEST: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  FORBIDDEN: 'permission_error',
  MODEL_NOT_FOUND: 'not_found_error',
  NOT_FOUND: 'not_found_error',
  PAYLOAD_TOO_LARGE: 'request_too_large',
  RATE_LIMITED: 'rate_limit_error',
  BUDGET_EXCEEDED: 'rate_limit_error',
  MODERATION_BLOCKED: 'permission_error',
  CONTEXT_WINDOW_EXCEEDED: 'invalid_request_error',
  PROVIDER_ERROR: 'api_error',
  PROVIDER_RATE_LIMITED: 'rate_limit_error',
  PROVIDER_TIMEOUT: 'api_error',
  PROVIDER_UNAVAILABLE: 'overloaded_error',
  SERVICE_UNAVAILABLE: 'overloaded_error',
  DEADLINE_EXCEEDED: 'api_error',
  CANCELLED: 'invalid_request_error',
  INTERNAL: 'api_error',
};

/** `{"type":"error","error":{"type","message"}}` with the code's status (never outside 4xx/5xx). */
export function anthropicError(err: GatewayError): { status: number; body: AnthropicErrorBody } {
  const status = err.status >= 400 && err.status <= 599 ? err.status : 500;
  const message =
    err.param && !err.message.startsWith(err.param) ? `${err.param}: ${err.message}` : err.message;
  return { status, body: { type: 'error', error: { type: ANTHROPIC[err.code], message } } };
}
