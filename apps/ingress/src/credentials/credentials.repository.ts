import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '@gw/db';
import { PRISMA } from '../config/tokens.js';

export type CredentialRow = Prisma.ProviderCredentialGetPayload<object>;

/** identity.provider_credentials: versions of encrypted provider secrets. */
@Injectable()
export class CredentialsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Inserts the next version of a provider's credential (max + 1, computed and written in one transaction). */
  addVersion(data: Omit<Prisma.ProviderCredentialUncheckedCreateInput, 'version'>): Promise<CredentialRow> {
    return this.prisma.$transaction(async (tx) => {
      const last = await tx.providerCredential.findFirst({
        where: { providerId: data.providerId },
        orderBy: { version: 'desc' },
        select: { version: true },
      });
      return tx.providerCredential.create({ data: { ...data, version: (last?.version ?? 0) + 1 } });
    });
  }

  /** Versions not removed, newest first per provider. */
  listLive(): Promise<CredentialRow[]> {
    return this.prisma.providerCredential.findMany({
      where: { removedAt: null },
      orderBy: [{ providerId: 'asc' }, { version: 'desc' }],
    });
  }

  async remove(providerId: string, version: number): Promise<CredentialRow | null> {
    const row = await this.prisma.providerCredential.findUnique({
      where: { providerId_version: { providerId, version } },
    });
    if (!row || row.removedAt) return null;
    return this.prisma.providerCredential.update({
      where: { id: row.id },
      data: { removedAt: new Date(), ciphertext: Buffer.alloc(0) },
    });
  }
}
