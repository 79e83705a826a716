import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { contracts, GatewayError, type ProviderCredentialsResult } from '@gw/contracts';
import { Handles, HotClient } from '@gw/transport';
import type { IngressEnv } from '../config/env.js';
import { INGRESS_ENV } from '../config/tokens.js';
import { CredentialsRepository, type CredentialRow } from './credentials.repository.js';
import type { CredentialCreate } from './credentials.schemas.js';
import { mask, seal } from '@gw/secrets';

export type CredentialJson = {
  id: string;
  object: 'credential';
  providerId: string;
  version: number;
  active: boolean;
  apiKey: string;
  createdAt: string;
};

/**
 * Provider credentials stored through the admin API, encrypted at rest with GATEWAY_ENCRYPTION_KEY (AES-256-GCM,
 * the provider id bound as associated data). Rotation: adding a credential makes a new version, the active one;
 * older versions stay readable until removed, so callers holding them keep working during the switch.
 */
@Injectable()
export class CredentialsService {
  private readonly key: Buffer | null;

  constructor(
    private readonly repo: CredentialsRepository,
    private readonly hot: HotClient,
    @Inject(INGRESS_ENV) env: IngressEnv,
  ) {
    this.key = env.GATEWAY_ENCRYPTION_KEY ? Buffer.from(env.GATEWAY_ENCRYPTION_KEY, 'hex') : null;
  }

  async create(input: CredentialCreate): Promise<CredentialJson> {
    const sealed = seal(this.requireKey(), input.apiKey, input.providerId);
    const row = await this.repo.addVersion({
      id: `cred_${randomBytes(12).toString('base64url')}`,
      providerId: input.providerId,
      last4: input.apiKey.slice(-4),
      ciphertext: bytes(sealed.ciphertext),
      iv: bytes(sealed.iv),
      authTag: bytes(sealed.authTag),
    });
    this.hot.emit(contracts.executorCredentialsChanged, { providerId: row.providerId });
    return credentialJson(row, true);
  }

  async list(): Promise<{ object: 'list'; data: CredentialJson[] }> {
    const rows = await this.repo.listLive();
    const seen = new Set<string>();
    const data = rows.map((r) => {
      const active = !seen.has(r.providerId); // newest live version of each provider
      seen.add(r.providerId);
      return credentialJson(r, active);
    });
    return { object: 'list', data };
  }

  async remove(providerId: string, version: string): Promise<CredentialJson> {
    const v = Number(version);
    if (!Number.isInteger(v) || v < 1)
      throw new GatewayError('INVALID_REQUEST', `version must be a positive integer, not ${version}`, {
        param: 'version',
      });
    const row = await this.repo.remove(providerId, v);
    if (!row) throw new GatewayError('NOT_FOUND', `no credential ${providerId} version ${v}`);
    this.hot.emit(contracts.executorCredentialsChanged, { providerId });
    return credentialJson(row, false);
  }

  /**
   * For executors (`identity.rpc.provider-credentials.v1`): the active version of each provider, still sealed. The
   * executor opens it with its own GATEWAY_ENCRYPTION_KEY: no secret crosses NATS in clear.
   */
  @Handles('identityProviderCredentials')
  async sealedActive(): Promise<ProviderCredentialsResult> {
    const credentials: ProviderCredentialsResult['credentials'] = [];
    const seen = new Set<string>();
    const b64 = (x: Uint8Array) => Buffer.from(x).toString('base64');
    for (const r of await this.repo.listLive()) {
      if (seen.has(r.providerId)) continue;
      seen.add(r.providerId);
      credentials.push({
        providerId: r.providerId,
        version: r.version,
        ciphertext: b64(r.ciphertext),
        iv: b64(r.iv),
        authTag: b64(r.authTag),
      });
    }
    return { credentials };
  }

  private requireKey(): Buffer {
    if (!this.key)
      throw new GatewayError(
        'SERVICE_UNAVAILABLE',
        'GATEWAY_ENCRYPTION_KEY is not set: provider credentials cannot be stored',
      );
    return this.key;
  }
}

/** Prisma's Bytes is a Uint8Array over a plain ArrayBuffer (a Buffer may sit on a shared pool). */
function bytes(b: Buffer): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(b.byteLength));
  out.set(b);
  return out;
}

function credentialJson(r: CredentialRow, active: boolean): CredentialJson {
  return {
    id: r.id,
    object: 'credential',
    providerId: r.providerId,
    version: r.version,
    active: active && r.removedAt === null,
    apiKey: mask(r.last4),
    createdAt: r.createdAt.toISOString(),
  };
}
