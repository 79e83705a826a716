import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit, type Provider } from '@nestjs/common';
import { createRedis, ExactCache } from '@gw/exact-cache';
import { throttledWarn, WARN_EVERY_MS } from '../common/throttled-warn.js';
import type { IngressEnv } from '../config/env.js';
import { EXACT_CACHE, INGRESS_ENV } from '../config/tokens.js';

/**
 * The exact cache in Redis: one GET per lookup and one SET EX per store (no NATS hop to the cache service), each
 * bounded by CACHE_TIMEOUT_MS, under the same REDIS_PREFIX and key layout as the cache service (ADR 0012, 0013).
 */
export const exactCacheProvider: Provider = {
  provide: EXACT_CACHE,
  inject: [INGRESS_ENV],
  useFactory: (env: IngressEnv) =>
    new ExactCache(
      createRedis(env.REDIS_URL, { commandTimeoutMs: env.CACHE_TIMEOUT_MS }),
      env.REDIS_PREFIX,
      env.CACHE_MAX_VALUE_BYTES,
      // stores go after the answer: the stores of one event-loop turn share a socket write
      createRedis(env.REDIS_URL, { commandTimeoutMs: env.CACHE_TIMEOUT_MS, autoPipelining: true }),
    ),
};

/** Connects at boot (a Redis that is down does not stop the boot: lookups fail open) and closes on shutdown. */
@Injectable()
export class ExactCacheLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ExactCache');
  constructor(@Inject(EXACT_CACHE) private readonly reader: ExactCache) {}
  async onModuleInit(): Promise<void> {
    const warn = throttledWarn(this.logger);
    this.reader.onConnectionError((err) =>
      warn(`redis (exact cache) unavailable, lookups are misses and stores are dropped until it is back (logged at most every ${WARN_EVERY_MS} ms): ${err.message}`),
    );
    await this.reader.connect();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }
}
