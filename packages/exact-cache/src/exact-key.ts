/**
 * The Redis key of an exact cache entry: `${prefix}:cache:exact:${namespace}:${key}`. The namespace (tenant) is
 * URI-encoded, so it never contains `:` and no (namespace, key) pair can produce another namespace's key: a team
 * id is a UUID and a key a sha256 hex, which encoding leaves as they are.
 */
export function exactKey(prefix: string, namespace: string, key: string): string {
  return `${prefix}:cache:exact:${encodeURIComponent(namespace)}:${key}`;
}
