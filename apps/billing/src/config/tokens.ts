export const BILLING_ENV = Symbol('BILLING_ENV');
export const PG_POOL = Symbol('PG_POOL');
/** Optional JetStream names for the usage consumer (tests use unique ones); absent = the contract's own. */
export const USAGE_TARGET = Symbol('USAGE_TARGET');
/** Optional gateway config (tests); absent = loaded from GATEWAY_CONFIG (or the built-in one). */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
/** Optional JetStream stream/subject for budget alerts (tests use unique ones); absent = the contract's own. */
export const ALERT_TARGET = Symbol('ALERT_TARGET');
