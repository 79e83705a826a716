import type { Provider } from '@nestjs/common';
import { createRedis, ExactCache } from '@gw/exact-cache';
import type { CacheEnv } from '../config/env.js';
import { CACHE_ENV, EXACT_CACHE } from '../config/tokens.js';

/** @gw/exact-cache on its fail-fast Redis client (no offline queue, short command timeout, background reconnect). */
export const exactCacheProvider: Provider = {
  provide: EXACT_CACHE,
  inject: [CACHE_ENV],
  useFactory: (env: CacheEnv) => new ExactCache(createRedis(env.REDIS_URL), env.REDIS_PREFIX, env.CACHE_MAX_VALUE_BYTES),
};
