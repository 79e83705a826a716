import { Redis } from 'ioredis';

/** A command fails after this long (unless the caller asks for another bound) rather than holding up a request. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

/**
 * Fail-fast client for the exact cache: no offline queue (a command while disconnected fails at once instead of
 * waiting for the reconnect), a short command timeout, and reconnection in the background forever. No
 * auto-pipelining unless asked (`autoPipelining`: for writes nobody waits for): it holds every command back to the
 * next setImmediate to batch it, which puts a turn of the event loop on each lookup. Created lazily: call `connect()` (a failed connect keeps retrying in the background).
 */
export function createRedis(url: string, opts: { commandTimeoutMs?: number; autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: opts.autoPipelining ?? false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
}
