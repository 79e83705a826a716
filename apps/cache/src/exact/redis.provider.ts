import type { Provider } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { CacheEnv } from '../config/env.js';
import { CACHE_ENV, REDIS } from '../config/tokens.js';

/** A command fails after this long rather than holding up a lookup on the request path. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

/**
 * Fail-fast client: no offline queue (a command while disconnected fails at once instead of waiting for the
 * reconnect), a short command timeout, and reconnection in the background forever. No auto-pipelining: it holds
 * every command back to the next setImmediate to batch it, which puts a turn of the event loop on each lookup.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
}

export const redisProvider: Provider = {
  provide: REDIS,
  inject: [CACHE_ENV],
  useFactory: (env: CacheEnv) => createRedis(env.REDIS_URL),
};
