import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import type { GatewayConfig } from '@gw/contracts';
import { rawEnv, type BillingEnv } from '../config/env.js';
import { BILLING_ENV, GATEWAY_CONFIG } from '../config/tokens.js';
import { PricesService } from './prices.service.js';

/** On boot: the config's prices into billing.prices (idempotent; several replicas serialise on the prices lock). */
@Injectable()
export class PricesSeed implements OnApplicationBootstrap {
  private readonly logger = new Logger('PricesSeed');

  constructor(
    private readonly prices: PricesService,
    @Inject(BILLING_ENV) private readonly env: BillingEnv,
    @Optional() @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig | null = null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const config = this.config ?? loadGatewayConfig(this.env.GATEWAY_CONFIG, rawEnv());
    await this.prices.seedFromConfig(config);
    this.logger.log(`prices seeded from ${this.env.GATEWAY_CONFIG ?? 'the built-in config'}`);
  }
}
