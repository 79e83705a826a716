export const EXECUTOR_ENV = Symbol('EXECUTOR_ENV');
