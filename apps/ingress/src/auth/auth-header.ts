import { createHash } from 'node:crypto';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The key a client sent: `Authorization: Bearer <key>` (what the OpenAI and Anthropic SDKs send) or
 * `x-api-key: <key>`. Returns null when neither holds a key.
 */
export function apiKeyFrom(headers: Headers): string | null {
  const auth = headers['authorization'];
  if (typeof auth === 'string' && auth.length > 7) {
    // "Bearer" is case-insensitive (RFC 6750 / 7235)
    if (auth.charCodeAt(6) === 32 && auth.slice(0, 6).toLowerCase() === 'bearer') {
      const key = auth.slice(7).trim();
      if (key) return key;
    }
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string') {
    const key = x.trim();
    if (key) return key;
  }
  return null;
}

/** Keys are stored and looked up as the sha256 hex of the secret. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
