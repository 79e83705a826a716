export const CACHE_ENV = Symbol('CACHE_ENV');
export const EXACT_CACHE = Symbol('EXACT_CACHE');
