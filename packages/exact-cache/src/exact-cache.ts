import type { Redis } from 'ioredis';
import { exactKey } from './exact-key.js';

/** Default bound on one stored value (the cache service's and the ingress's CACHE_MAX_VALUE_BYTES). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

/** UTF-8 size within `maxBytes`; a string of n UTF-16 units is at most 3n bytes, so most values need no count. */
export function fitsExactCache(value: string, maxBytes: number): boolean {
  if (value.length * 3 <= maxBytes) return true;
  return Buffer.byteLength(value, 'utf8') <= maxBytes;
}

/**
 * Exact cache entries straight in Redis, for callers on the request path (the ingress): a lookup is one GET and a
 * store one SET EX, with no NATS hop to the cache service (ADR 0012, 0013). The cache service uses the same key
 * layout (`exactKey`) and size rule (`fitsExactCache`) for the callers it serves, so a lookup never crosses a
 * namespace whoever wrote the entry. Errors (Redis down, command timeout) are thrown: the caller fails open.
 */
export class ExactCache {
  /**
   * `writer`: a second client for stores (default: the same one). Stores happen after the answer went out, so the
   * ingress gives them an auto-pipelining client: the stores of one event-loop turn share one socket write, while
   * lookups keep a client that writes each GET at once (auto-pipelining would hold a lookup back a turn).
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxValueBytes: number = DEFAULT_MAX_VALUE_BYTES,
    private readonly writer: Redis = redis,
  ) {}

  /** The stored value (the executor's JSON text of a completion), or null on a miss. */
  get(namespace: string, key: string): Promise<string | null> {
    return this.redis.get(exactKey(this.prefix, namespace, key));
  }

  /** Stores `value` for `ttlSeconds`; false (and nothing written) when it is over the size limit. */
  async set(namespace: string, key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if (!fitsExactCache(value, this.maxValueBytes)) return false;
    await this.writer.set(exactKey(this.prefix, namespace, key), value, 'EX', ttlSeconds);
    return true;
  }

  /** Connection errors (ioredis keeps reconnecting in the background); without a listener ioredis prints each one. */
  onConnectionError(listener: (err: Error) => void): void {
    for (const r of this.clients()) r.on('error', listener);
  }

  /** The lookup connection (re)connected. */
  onReady(listener: () => void): void {
    this.redis.on('ready', listener);
  }

  /** Connects; a Redis that is down does not throw here (commands fail fast until the background reconnect). */
  async connect(): Promise<void> {
    await Promise.all(this.clients().map((r) => r.connect().catch(() => undefined)));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients().map(async (r) => {
        if (r.status === 'ready') await r.quit().catch(() => r.disconnect());
        else r.disconnect();
      }),
    );
  }

  private clients(): Redis[] {
    return this.writer === this.redis ? [this.redis] : [this.redis, this.writer];
  }
}
