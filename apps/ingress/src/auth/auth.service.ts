import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { GatewayError } from '@gw/contracts';
import type { IngressEnv } from '../config/env.js';
import { INGRESS_ENV } from '../config/tokens.js';
import { apiKeyFrom, hashKey } from './auth-header.js';
import type { Identity } from './identity.js';
import { TtlCache } from './key-cache.js';
import { KeysRepository } from './keys.repository.js';

type Headers = Record<string, string | string[] | undefined>;

/**
 * Authenticates virtual keys. A resolved key (or an unknown one) stays in process for at most KEY_CACHE_TTL_MS
 * (≤ 1 s), so a warm key costs no database query and a revocation is effective within a second on every replica.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');
  private readonly cache: TtlCache<Identity | null>;
  private readonly master: Buffer;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(INGRESS_ENV) env: IngressEnv,
  ) {
    this.cache = new TtlCache(env.KEY_CACHE_TTL_MS);
    this.master = Buffer.from(hashKey(env.GATEWAY_MASTER_KEY), 'hex');
  }

  /** The caller's identity; 401 when the key is missing, unknown, revoked or expired. */
  async authenticate(headers: Headers): Promise<Identity> {
    const key = apiKeyFrom(headers);
    if (!key) throw new GatewayError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key> or x-api-key');
    const hash = hashKey(key);
    const identity = await this.cache.get(hash, () => this.load(hash));
    if (!identity) throw new GatewayError('UNAUTHENTICATED', 'invalid API key');
    if (identity.revoked) throw new GatewayError('UNAUTHENTICATED', 'API key has been revoked');
    if (identity.expiresAt !== null && identity.expiresAt <= Date.now()) throw new GatewayError('UNAUTHENTICATED', 'API key has expired');
    if (identity.role === 'finance') throw new GatewayError('FORBIDDEN', 'a finance key reads the billing API only; it may not call the model endpoints');
    return identity;
  }

  private async load(hash: string): Promise<Identity | null> {
    try {
      return await this.keys.findByHash(hash);
    } catch (err) {
      this.logger.error(`key lookup failed: ${err instanceof Error ? err.message : String(err)}`);
      throw new GatewayError('SERVICE_UNAVAILABLE', 'the key store is not available');
    }
  }

  /** Admin API: the master key, or a key with the admin role. */
  async authenticateAdmin(headers: Headers): Promise<Identity | 'master'> {
    const key = apiKeyFrom(headers);
    if (!key) throw new GatewayError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <master key or admin key>');
    const hash = Buffer.from(hashKey(key), 'hex');
    if (timingSafeEqual(hash, this.master)) return 'master';
    const identity = await this.authenticate(headers);
    if (identity.role !== 'admin') throw new GatewayError('FORBIDDEN', 'this key may not use the admin API');
    return identity;
  }

  /** Forgets a key at once in this process (after an admin change); other replicas follow within the TTL. */
  forget(keyHash: string): void {
    this.cache.delete(keyHash);
  }
}
