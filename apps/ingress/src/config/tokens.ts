export const INGRESS_ENV = Symbol('INGRESS_ENV');
/** the GatewayConfig in force (cache and moderation settings) */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const PRISMA = Symbol('PRISMA');
/** the ExactCache (@gw/exact-cache): exact-cache lookups and stores straight in Redis */
export const EXACT_CACHE = Symbol('EXACT_CACHE');
