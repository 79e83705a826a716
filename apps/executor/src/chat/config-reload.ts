import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { reloadConfigFile, tryConfigText, watchConfigFile, type ConfigListener } from '@gw/config';
import type { ConfigReloadEvent } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { rawEnv, type ExecutorEnv } from '../config/env.js';
import { EXECUTOR_ENV } from '../config/tokens.js';
import { ProviderDirectory } from '../providers/provider-directory.js';

/**
 * Config reload on the executor: the providers (credentials, base URLs, timeouts, headers) of a new config, from a
 * change of the GATEWAY_CONFIG file or from routing.evt.config-reload.v1 (the admin API; every replica hears it).
 * Validated first against this replica's environment: a bad config is refused with every problem logged.
 */
@Injectable()
export class ConfigReload implements OnModuleDestroy {
  private readonly logger = new Logger('ConfigReload');
  private readonly stop: (() => void) | null = null;
  private readonly listener: ConfigListener = {
    apply: (config, source) => {
      this.providers.load(config);
      this.logger.log(`config: ${this.providers.size} providers (${source})`);
    },
    refuse: (problems, source) =>
      this.logger.error(`config from ${source} refused, the old one stays:\n  ${problems.join('\n  ')}`),
  };

  constructor(
    @Inject(EXECUTOR_ENV) private readonly env: ExecutorEnv,
    private readonly providers: ProviderDirectory,
  ) {
    if (env.GATEWAY_CONFIG && env.CONFIG_WATCH)
      this.stop = watchConfigFile(env.GATEWAY_CONFIG, rawEnv(), this.listener);
  }

  @Handles('routingConfigReload')
  reload(event: ConfigReloadEvent): boolean {
    if (event.yaml !== undefined)
      return tryConfigText(event.yaml, rawEnv(), `admin API (${event.by})`, this.listener);
    if (!this.env.GATEWAY_CONFIG) {
      this.listener.refuse(['no GATEWAY_CONFIG file to re-read'], `admin API (${event.by})`);
      return false;
    }
    return reloadConfigFile(this.env.GATEWAY_CONFIG, rawEnv(), this.listener);
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
