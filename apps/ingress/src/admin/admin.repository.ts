import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@gw/db';
import { PRISMA } from '../config/tokens.js';

export type OrgRow = Prisma.OrgGetPayload<object>;
export type TeamRow = Prisma.TeamGetPayload<object>;
export type KeyRow = Prisma.ApiKeyGetPayload<object>;
/** the statements of one transaction */
export type Tx = Prisma.TransactionClient;

/** identity.orgs, identity.teams and identity.api_keys, write side (admin API). */
@Injectable()
export class AdminRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Runs `fn` in one transaction: a check and the write it depends on commit together or not at all. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(fn);
  }

  createOrg(data: Prisma.OrgUncheckedCreateInput): Promise<OrgRow> {
    return this.prisma.org.create({ data });
  }
  listOrgs(): Promise<OrgRow[]> {
    return this.prisma.org.findMany({ orderBy: { createdAt: 'asc' } });
  }
  findOrg(id: string, tx: Tx = this.prisma): Promise<OrgRow | null> {
    return tx.org.findUnique({ where: { id } });
  }
  updateOrg(id: string, data: Prisma.OrgUncheckedUpdateInput): Promise<OrgRow> {
    return this.prisma.org.update({ where: { id }, data });
  }

  createTeam(data: Prisma.TeamUncheckedCreateInput, tx: Tx = this.prisma): Promise<TeamRow> {
    return tx.team.create({ data });
  }
  listTeams(orgId: string | undefined): Promise<TeamRow[]> {
    return this.prisma.team.findMany({ where: orgId ? { orgId } : {}, orderBy: { createdAt: 'asc' } });
  }
  findTeam(id: string, tx: Tx = this.prisma): Promise<TeamRow | null> {
    return tx.team.findUnique({ where: { id } });
  }
  updateTeam(id: string, data: Prisma.TeamUncheckedUpdateInput, tx: Tx = this.prisma): Promise<TeamRow> {
    return tx.team.update({ where: { id }, data });
  }

  createKey(data: Prisma.ApiKeyUncheckedCreateInput, tx: Tx = this.prisma): Promise<KeyRow> {
    return tx.apiKey.create({ data });
  }
  listKeys(teamId: string | undefined): Promise<KeyRow[]> {
    return this.prisma.apiKey.findMany({ where: teamId ? { teamId } : {}, orderBy: { createdAt: 'asc' } });
  }
  findKey(id: string): Promise<KeyRow | null> {
    return this.prisma.apiKey.findUnique({ where: { id } });
  }
  updateKey(id: string, data: Prisma.ApiKeyUncheckedUpdateInput): Promise<KeyRow> {
    return this.prisma.apiKey.update({ where: { id }, data });
  }
}

/** A unique constraint (say, a team name taken) → true. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
