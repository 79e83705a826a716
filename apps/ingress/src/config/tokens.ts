export const INGRESS_ENV = Symbol('INGRESS_ENV');
/** the GatewayConfig in force (cache and moderation settings) */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const PRISMA = Symbol('PRISMA');
