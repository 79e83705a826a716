import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { contracts, type CredentialsChangedEvent } from '@gw/contracts';
import { encryptionKey, open } from '@gw/secrets';
import { Handles, HotClient } from '@gw/transport';
import type { ExecutorEnv } from '../config/env.js';
import { EXECUTOR_ENV } from '../config/tokens.js';
import { ProviderDirectory } from './provider-directory.js';

const RETRY_MS = 5_000;
const TIMEOUT_MS = 3_000;

/**
 * Provider credentials stored through the admin API: fetched sealed from the ingress
 * (`identity.rpc.provider-credentials.v1`) at boot and whenever `executor.evt.credentials-changed.v1` is broadcast,
 * opened with GATEWAY_ENCRYPTION_KEY, and handed to the ProviderDirectory (a stored credential wins over the
 * config's apiKey). Requests in flight keep the key they started with; the next ones use the new version.
 * Without GATEWAY_ENCRYPTION_KEY the executor uses the config's keys only.
 */
@Injectable()
export class CredentialsSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Credentials');
  private readonly key: Buffer | null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hot: HotClient,
    private readonly directory: ProviderDirectory,
    @Inject(EXECUTOR_ENV) env: ExecutorEnv,
  ) {
    this.key = env.GATEWAY_ENCRYPTION_KEY ? encryptionKey(env.GATEWAY_ENCRYPTION_KEY) : null;
  }

  onApplicationBootstrap(): void {
    if (this.key) void this.refresh();
  }

  @Handles('executorCredentialsChanged')
  async changed(_event: CredentialsChangedEvent): Promise<void> {
    if (this.key) await this.refresh();
  }

  /** Fetches and applies the active credentials; on failure (no ingress yet) tries again in the background. */
  async refresh(): Promise<boolean> {
    const key = this.key;
    if (!key) return false;
    try {
      const { credentials } = await this.hot.call(
        contracts.identityProviderCredentials,
        {},
        { timeoutMs: TIMEOUT_MS },
      );
      const keys = new Map<string, string>();
      for (const c of credentials) {
        try {
          const sealed = {
            ciphertext: Buffer.from(c.ciphertext, 'base64'),
            iv: Buffer.from(c.iv, 'base64'),
            authTag: Buffer.from(c.authTag, 'base64'),
          };
          keys.set(c.providerId, open(key, sealed, c.providerId));
        } catch {
          this.logger.error(
            `credential ${c.providerId} v${c.version} does not open with this GATEWAY_ENCRYPTION_KEY: ignored`,
          );
        }
      }
      this.directory.setStoredKeys(keys);
      this.logger.log(`stored credentials in use for: ${[...keys.keys()].join(', ') || 'none'}`);
      return true;
    } catch (err) {
      this.logger.warn(
        `stored credentials not fetched (${err instanceof Error ? err.message : String(err)}); retrying in ${RETRY_MS} ms`,
      );
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.refresh();
        }, RETRY_MS);
        this.timer.unref();
      }
      return false;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
