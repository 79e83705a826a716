export { exactKey } from './exact-key.js';
export { ExactCacheReader } from './reader.js';
export { createRedis, REDIS_COMMAND_TIMEOUT_MS } from './redis.js';
