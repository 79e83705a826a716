export const CACHE_ENV = Symbol('CACHE_ENV');
export const REDIS = Symbol('REDIS');
