import { Inject, Injectable, Logger } from '@nestjs/common';
import { loadGatewayConfig } from '@gw/config';
import type { ModerationConfig } from '@gw/contracts';
import { rawEnv, type ModerationEnv } from '../config/env.js';
import { MODERATION_ENV } from '../config/tokens.js';

/** The moderation policy in force: the `moderation` section of GATEWAY_CONFIG (or of the built-in config). */
@Injectable()
export class PolicyService {
  private readonly logger = new Logger('Policy');
  readonly policy: ModerationConfig;

  constructor(@Inject(MODERATION_ENV) env: ModerationEnv) {
    this.policy = loadGatewayConfig(env.GATEWAY_CONFIG, rawEnv()).moderation;
    this.logger.log(`card numbers: ${this.policy.cardNumbers} (${env.GATEWAY_CONFIG ?? 'built-in config'})`);
  }
}
