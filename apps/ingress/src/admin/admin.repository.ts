import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@gw/db';
import { PRISMA } from '../config/tokens.js';

export type TeamRow = Prisma.TeamGetPayload<object>;
export type KeyRow = Prisma.ApiKeyGetPayload<object>;

/** identity.teams and identity.api_keys, write side (admin API). */
@Injectable()
export class AdminRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  createTeam(data: Prisma.TeamUncheckedCreateInput): Promise<TeamRow> {
    return this.prisma.team.create({ data });
  }
  listTeams(): Promise<TeamRow[]> {
    return this.prisma.team.findMany({ orderBy: { createdAt: 'asc' } });
  }
  findTeam(id: string): Promise<TeamRow | null> {
    return this.prisma.team.findUnique({ where: { id } });
  }
  updateTeam(id: string, data: Prisma.TeamUncheckedUpdateInput): Promise<TeamRow> {
    return this.prisma.team.update({ where: { id }, data });
  }

  createKey(data: Prisma.ApiKeyUncheckedCreateInput): Promise<KeyRow> {
    return this.prisma.apiKey.create({ data });
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
