import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { loadGatewayConfig, reloadConfigFile, tryConfigText, watchConfigFile, type ConfigListener } from '@gw/config';
import type { ConfigReloadEvent, GatewayConfig } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { HealthBoard } from '../health/health-board.js';
import { Catalogue } from './catalogue.js';
import { Planner } from './planner.js';
import { ROUTER_ENV } from '../config/tokens.js';
import { rawEnv, type RouterEnv } from '../config/env.js';

/**
 * Holds the catalogue and planner in force, built from GATEWAY_CONFIG (or the built-in simulator config).
 * A new config (file change, or routing.evt.config-reload.v1 from the admin API) is validated first: a bad one is
 * refused with every problem logged, and the old one stays. Health survives a reload (it is keyed by target).
 */
@Injectable()
export class CatalogueService implements OnModuleDestroy {
  private readonly logger = new Logger('Catalogue');
  private current: Planner;
  readonly health: HealthBoard;
  private readonly stopWatching: (() => void) | null = null;
  private readonly listener: ConfigListener = {
    apply: (config, source) => this.apply(config, source),
    refuse: (problems, source) => this.logger.error(`config from ${source} refused, the old one stays:\n  ${problems.join('\n  ')}`),
  };

  constructor(@Inject(ROUTER_ENV) private readonly env: RouterEnv) {
    const config = loadGatewayConfig(env.GATEWAY_CONFIG, rawEnv());
    this.health = new HealthBoard(config.routing.breaker);
    this.health.onChange((target, from, to) => {
      if (to === 'open') this.logger.warn(`circuit ${target}: ${from} → open (its calls fail; it gets no traffic for ${this.catalogue.config.routing.breaker.openMs} ms)`);
      else this.logger.warn(`circuit ${target}: ${from} → ${to}`);
    });
    this.current = new Planner(new Catalogue(config), this.health);
    this.describe(config, env.GATEWAY_CONFIG ?? 'built-in simulator config');
    if (env.GATEWAY_CONFIG && env.CONFIG_WATCH) this.stopWatching = watchConfigFile(env.GATEWAY_CONFIG, rawEnv(), this.listener);
  }

  get catalogue(): Catalogue {
    return this.current.catalogue;
  }

  get planner(): Planner {
    return this.current;
  }

  /** routing.evt.config-reload.v1 (broadcast): every router replica takes the new config, or keeps its own. */
  @Handles('routingConfigReload')
  reload(event: ConfigReloadEvent): boolean {
    if (event.yaml !== undefined) return tryConfigText(event.yaml, rawEnv(), `admin API (${event.by})`, this.listener);
    if (!this.env.GATEWAY_CONFIG) {
      this.listener.refuse(['no GATEWAY_CONFIG file to re-read'], `admin API (${event.by})`);
      return false;
    }
    return reloadConfigFile(this.env.GATEWAY_CONFIG, rawEnv(), this.listener);
  }

  private apply(config: GatewayConfig, source: string): void {
    this.health.configure(config.routing.breaker);
    this.current = new Planner(new Catalogue(config), this.health);
    this.describe(config, source);
  }

  private describe(config: GatewayConfig, source: string): void {
    this.logger.log(`config: ${config.providers.length} providers, ${config.models.length} models (${source})`);
  }

  onModuleDestroy(): void {
    this.stopWatching?.();
  }
}
