import type { Provider } from '@nestjs/common';
import { createRedis } from '@gw/exact-cache';
import type { CacheEnv } from '../config/env.js';
import { CACHE_ENV, REDIS } from '../config/tokens.js';

/** The fail-fast Redis client of @gw/exact-cache (no offline queue, short command timeout, background reconnect). */
export const redisProvider: Provider = {
  provide: REDIS,
  inject: [CACHE_ENV],
  useFactory: (env: CacheEnv) => createRedis(env.REDIS_URL),
};
