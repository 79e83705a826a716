import { hash } from 'node:crypto';

/** The request fields that change the answer (protocol.md); everything else (user, stream options, metadata) does not. */
export const CACHE_KEY_FIELDS = [
  'model',
  'messages',
  'tools',
  'tool_choice',
  'response_format',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'seed',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
] as const;


/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, `undefined` members dropped. Two requests
 * that differ only in key order or formatting get the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return out + '}';
}

/**
 * The cache key of a chat request: sha256 hex of the canonical JSON of the answer-changing fields. A field
 * that is absent and one that is null are the same request (OpenAI treats null as "not set").
 */
export function chatCacheKey(body: Readonly<Record<string, unknown>>): string {
  const picked: Record<string, unknown> = {};
  for (const f of CACHE_KEY_FIELDS) {
    const v = body[f];
    if (v !== undefined && v !== null) picked[f] = v;
  }
  return hash('sha256', canonicalJson(picked), 'hex');
}
