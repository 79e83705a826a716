import { GatewayError } from '@gw/contracts';
import { retryAfterSeconds } from '../openai-compatible/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Bedrock errors. A non-2xx answer names its exception in the `x-amzn-errortype` header
 * (`ThrottlingException:http://internal.amazon.com/coral/...`) and sometimes in the body's `__type`; the body is
 * `{"message": "..."}` (or `Message`). Inside a ConverseStream, an `exception` message names it in
 * `:exception-type` (lowerCamelCase). The exception decides; the HTTP status is the fallback:
 * - ValidationException (400): INVALID_REQUEST with the upstream message; an input over the context window is
 *   CONTEXT_WINDOW_EXCEEDED (retryable: another target may have a larger window).
 * - AccessDenied, UnrecognizedClient, InvalidSignature, ExpiredToken, IncompleteSignature (403): PROVIDER_ERROR 502,
 *   not retryable (the gateway's credentials; the message is not passed on).
 * - ResourceNotFound (404): the configured model is not there: PROVIDER_ERROR 502, retryable.
 * - Throttling and ServiceQuotaExceeded (429): PROVIDER_RATE_LIMITED, retry-after carried when sent.
 * - ModelTimeout (408): PROVIDER_TIMEOUT. ServiceUnavailable (503), ModelNotReady (429): PROVIDER_UNAVAILABLE.
 *   InternalServer (500), ModelError / ModelStreamError (424): PROVIDER_ERROR, retryable.
 */

const CONTEXT_OVERFLOW =
  /too long|too many (input )?tokens|context (window|length)|exceeds? the (maximum|max)/i;

const NAME_BY_STATUS: Record<number, string> = {
  400: 'validationexception',
  403: 'accessdeniedexception',
  404: 'resourcenotfoundexception',
  408: 'modeltimeoutexception',
  424: 'modelerrorexception',
  429: 'throttlingexception',
  500: 'internalserverexception',
  503: 'serviceunavailableexception',
};

export type BedrockErrorBody = { type: string | null; message: string | null };

function header(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `com.amazon.coral.validate#ValidationException` or `ThrottlingException:http://...` → `throttlingexception`. */
function normalise(type: string): string {
  const name = type.split(':')[0]!;
  return name.slice(name.lastIndexOf('#') + 1).toLowerCase();
}

export function readBedrockError(body: string, headers: UpstreamHeaders): BedrockErrorBody {
  let type = header(headers, 'x-amzn-errortype') ?? null;
  let message: string | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>;
      const m = o['message'] ?? o['Message'];
      if (typeof m === 'string') message = m;
      if (!type && typeof o['__type'] === 'string') type = o['__type'];
    }
  } catch {
    const text = body.trim();
    if (text) message = text.slice(0, 500);
  }
  return { type: type ? normalise(type) : null, message };
}

function mapError(
  kind: string | null,
  status: number,
  upstream: string,
  headers: UpstreamHeaders,
): GatewayError {
  switch (kind) {
    case 'validationexception':
      if (CONTEXT_OVERFLOW.test(upstream))
        return new GatewayError('CONTEXT_WINDOW_EXCEEDED', upstream, { param: 'messages' });
      return new GatewayError('INVALID_REQUEST', upstream);
    case 'accessdeniedexception':
    case 'unrecognizedclientexception':
    case 'invalidsignatureexception':
    case 'incompletesignatureexception':
    case 'expiredtokenexception':
    case 'missingauthenticationtokenexception':
      return new GatewayError(
        'PROVIDER_ERROR',
        `the upstream provider rejected the gateway's credentials or account (${kind})`,
        { status: 502, retryable: false },
      );
    case 'resourcenotfoundexception':
      return new GatewayError('PROVIDER_ERROR', `upstream: ${upstream}`, { status: 502, retryable: true });
    case 'throttlingexception':
    case 'servicequotaexceededexception': {
      const after = retryAfterSeconds(headers);
      return new GatewayError(
        'PROVIDER_RATE_LIMITED',
        'the upstream provider is rate limiting the gateway',
        after !== undefined ? { retryAfterSeconds: after } : {},
      );
    }
    case 'modeltimeoutexception':
      return new GatewayError('PROVIDER_TIMEOUT', 'the upstream model timed out');
    case 'serviceunavailableexception':
    case 'modelnotreadyexception': {
      const after = retryAfterSeconds(headers);
      return new GatewayError(
        'PROVIDER_UNAVAILABLE',
        `the upstream provider is unavailable (${kind})`,
        after !== undefined ? { retryAfterSeconds: after } : {},
      );
    }
    case 'internalserverexception':
    case 'modelerrorexception':
    case 'modelstreamerrorexception':
      return new GatewayError('PROVIDER_ERROR', `the upstream provider failed (${kind})`, {
        retryable: true,
      });
    default:
      return new GatewayError('PROVIDER_ERROR', `unexpected upstream answer (${status}): ${upstream}`, {
        status: 502,
        retryable: status >= 500 || status < 300,
      });
  }
}

export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  const e = readBedrockError(body, headers);
  const kind = e.type ?? NAME_BY_STATUS[status] ?? (status >= 500 ? 'internalserverexception' : null);
  return mapError(kind, status, e.message ?? `status ${status}`, headers);
}

/** An exception message inside a ConverseStream (`:exception-type` and its JSON payload). */
export function parseStreamException(type: string, payload: string): GatewayError {
  const e = readBedrockError(payload, {});
  return mapError(normalise(type), 200, e.message ?? type, {});
}
