export const ROUTER_ENV = Symbol('ROUTER_ENV');
