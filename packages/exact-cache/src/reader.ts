import type { Redis } from 'ioredis';
import { exactKey } from './exact-key.js';

/**
 * Reads exact cache entries straight from Redis, for a caller on the request path (the ingress), so a lookup is
 * one GET instead of a NATS round trip to the cache service. The cache service stays the only writer (stores,
 * TTLs, size limit); both sides share the key layout of `exactKey`, so a lookup never crosses a namespace.
 * Errors (Redis down, command timeout) are thrown: the caller decides to fail open.
 */
export class ExactCacheReader {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** The stored value (the executor's JSON text of a completion), or null on a miss. */
  get(namespace: string, key: string): Promise<string | null> {
    return this.redis.get(exactKey(this.prefix, namespace, key));
  }

  /** Connection errors (ioredis keeps reconnecting in the background); without a listener ioredis prints each one. */
  onConnectionError(listener: (err: Error) => void): void {
    this.redis.on('error', listener);
  }

  /** Connects; a Redis that is down does not throw here (lookups fail fast until the background reconnect). */
  async connect(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }
}
