import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '@gw/db';
import { PRISMA } from '../config/tokens.js';
import type { Identity, Role } from './identity.js';

/** identity.api_keys, read side of the hot path. */
@Injectable()
export class KeysRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async findByHash(keyHash: string): Promise<Identity | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyHash },
      select: { id: true, teamId: true, role: true, models: true, tags: true, expiresAt: true, revokedAt: true, team: { select: { orgId: true } } },
    });
    if (!row) return null;
    return {
      keyId: row.id,
      teamId: row.teamId,
      orgId: row.team.orgId,
      role: row.role as Role,
      models: row.models.length ? row.models : null,
      tags: stringRecord(row.tags),
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
      revoked: row.revokedAt !== null,
    };
  }
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
