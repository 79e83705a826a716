import type { Provider } from '@nestjs/common';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Budgets } from '@gw/budgets';
import { Redis } from 'ioredis';
import { throttledWarn } from '../common/throttled-warn.js';
import type { IngressEnv } from '../config/env.js';
import { INGRESS_ENV } from '../config/tokens.js';

export const REDIS = Symbol('REDIS');
export const BUDGETS = Symbol('BUDGETS');

/**
 * Rate limits and budgets sit on the request path. The offline queue is on so that a command issued while the
 * connection is (re)opening waits for it instead of failing, and REDIS_COMMAND_TIMEOUT_MS bounds that wait and any
 * command: past it a budgeted request is refused with 503, never held. Reconnection in the background; no
 * auto-pipelining (it would hold each admission back a turn of the event loop).
 */
export const redisProvider: Provider = {
  provide: REDIS,
  inject: [INGRESS_ENV],
  useFactory: (env: IngressEnv) => {
    const redis = new Redis(env.REDIS_URL, {
      lazyConnect: false,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 1,
      commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: 2_000,
      retryStrategy: (times) => Math.min(50 * times, 1_000),
    });
    // connection errors at most every 5 s (without a listener ioredis prints every reconnect attempt)
    const warn = throttledWarn(new Logger('Redis'));
    redis.on('error', (err: Error) => warn(`redis (limits, budgets) unavailable; limited or budgeted keys get 503 until it is back: ${err.message}`));
    return redis;
  },
};

export const budgetsProvider: Provider = {
  provide: BUDGETS,
  inject: [REDIS, INGRESS_ENV],
  useFactory: (redis: Redis, env: IngressEnv) =>
    new Budgets(redis, { prefix: env.REDIS_PREFIX, holdTtlMs: env.BUDGET_HOLD_TTL_MS }),
};

@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}
