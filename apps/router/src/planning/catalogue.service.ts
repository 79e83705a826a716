import { Inject, Injectable, Logger } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import { Catalogue } from './catalogue.js';
import { ROUTER_ENV } from '../config/tokens.js';
import { rawEnv, type RouterEnv } from '../config/env.js';

/** Holds the catalogue in force, built from GATEWAY_CONFIG (or the built-in simulator config). */
@Injectable()
export class CatalogueService {
  private readonly logger = new Logger('Catalogue');
  private current: Catalogue;

  constructor(@Inject(ROUTER_ENV) env: RouterEnv) {
    this.current = new Catalogue(loadGatewayConfig(env.GATEWAY_CONFIG, rawEnv()));
    this.logger.log(
      `config: ${this.current.config.providers.length} providers, ${this.current.config.models.length} models (${env.GATEWAY_CONFIG ?? 'built-in simulator config'})`,
    );
  }

  get catalogue(): Catalogue {
    return this.current;
  }
}
