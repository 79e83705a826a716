import type { Provider } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import type { GatewayConfig } from '@gw/contracts';
import { rawEnv, type IngressEnv } from './env.js';
import { GATEWAY_CONFIG, INGRESS_ENV } from './tokens.js';

/** The ingress's part of the gateway config: cache (enabled, ttlSeconds), moderation, the unsupportedParams switch, models (prices for budgets). */
export type IngressSettings = Pick<GatewayConfig, 'cache' | 'moderation' | 'unsupportedParams' | 'models'>;

export const gatewayConfigProvider: Provider = {
  provide: GATEWAY_CONFIG,
  inject: [INGRESS_ENV],
  useFactory: (env: IngressEnv): IngressSettings => {
    const config = loadGatewayConfig(env.GATEWAY_CONFIG, rawEnv());
    return { cache: config.cache, moderation: config.moderation, unsupportedParams: config.unsupportedParams, models: config.models };
  },
};
