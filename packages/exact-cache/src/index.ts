export { exactKey } from './exact-key.js';
export { DEFAULT_MAX_VALUE_BYTES, ExactCache, fitsExactCache } from './exact-cache.js';
export { createRedis, REDIS_COMMAND_TIMEOUT_MS } from './redis.js';
