export const BILLING_ENV = Symbol('BILLING_ENV');
export const PG_POOL = Symbol('PG_POOL');
/** Optional JetStream names for the usage consumer (tests use unique ones); absent = the contract's own. */
export const USAGE_TARGET = Symbol('USAGE_TARGET');
