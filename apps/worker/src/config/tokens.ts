export const WORKER_ENV = Symbol('WORKER_ENV');
/** Optional JetStream names for the budget alert consumer (tests use unique ones); absent = the contract's own. */
export const ALERT_TARGET = Symbol('ALERT_TARGET');
