import type { GatewayError } from '@gw/contracts';
import { parseError as openAiParseError } from '../openai-compatible/errors.js';
import type { UpstreamHeaders } from '../types.js';

/**
 * Mistral error bodies: `{"object":"error","message":"...","type":"invalid_request_error","param":null,"code":null}`
 * (400), a 422 whose `message` is an object of validation details (`{"detail":[{"loc":["body","x"],"msg":"..."}]}`),
 * or a bare `{"message":"Unauthorized"}` (401) / `{"message":"Requests rate limit exceeded"}` (429). The details
 * are flattened into one readable message (`body.x: Extra inputs are not permitted`), the param is the first
 * location; then the OpenAI mapping applies (422 → INVALID_REQUEST, 429 → rate limited with retry-after, ...).
 */
export function parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return openAiParseError(status, body, headers);
  }
  const root = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  const message = root?.['message'];
  if (!root || root['error'] !== undefined || !message || typeof message !== 'object')
    return openAiParseError(status, body, headers);
  const detail = (message as Record<string, unknown>)['detail'];
  const items = Array.isArray(detail) ? (detail as Array<Record<string, unknown>>) : [];
  const describe = (d: Record<string, unknown>) => {
    const loc = Array.isArray(d['loc']) ? (d['loc'] as unknown[]).map(String).join('.') : '';
    return `${loc ? `${loc}: ` : ''}${typeof d['msg'] === 'string' ? d['msg'] : 'invalid'}`;
  };
  const first = items[0];
  const firstLoc =
    first && Array.isArray(first['loc'])
      ? (first['loc'] as unknown[])
          .filter((x) => x !== 'body')
          .map(String)
          .join('.')
      : null;
  const flat = {
    error: {
      message: items.length ? items.map(describe).join('; ') : JSON.stringify(message),
      type: root['type'] ?? null,
      param: firstLoc || null,
      code: root['code'] ?? null,
    },
  };
  return openAiParseError(status, JSON.stringify(flat), headers);
}
