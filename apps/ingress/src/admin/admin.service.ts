import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { formatNanoUsd, GatewayError, usdToNano } from '@gw/contracts';
import type { Prisma } from '@gw/db';
import { AuthService } from '../auth/auth.service.js';
import { hashKey } from '../auth/auth-header.js';
import {
  AdminRepository,
  isUniqueViolation,
  type KeyRow,
  type OrgRow,
  type TeamRow,
} from './admin.repository.js';
import type { KeyCreate, KeyPatch, OrgCreate, OrgPatch, TeamCreate, TeamPatch } from './admin.schemas.js';

export type OrgJson = {
  id: string;
  object: 'organization';
  name: string;
  createdAt: string;
  updatedAt: string;
};

export type TeamJson = {
  id: string;
  object: 'team';
  name: string;
  orgId: string | null;
  budgetUsd: string | null;
  budgetPeriod: string | null;
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  models: string[];
  modelLimits: unknown;
  createdAt: string;
  updatedAt: string;
};

export type KeyJson = {
  id: string;
  object: 'api_key';
  teamId: string;
  name: string;
  keyPrefix: string;
  role: string;
  models: string[];
  rpm: number | null;
  tpm: number | null;
  budgetUsd: string | null;
  budgetPeriod: string | null;
  tags: unknown;
  maxConcurrent: number | null;
  modelLimits: unknown;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string;
};

const KEY_PREFIX_CHARS = 12; // "sk-gw-" + 6 characters of the secret, for display

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
const nano = (usd: number | null | undefined): bigint | null | undefined =>
  usd === undefined ? undefined : usd === null ? null : usdToNano(usd);

/** Teams and virtual keys. Money leaves as exact decimal strings (budgetUsd "12.500000000"). */
@Injectable()
export class AdminService {
  constructor(
    private readonly repo: AdminRepository,
    private readonly auth: AuthService,
  ) {}

  async createOrg(input: OrgCreate): Promise<OrgJson> {
    try {
      return orgJson(await this.repo.createOrg({ id: newId('org'), name: input.name }));
    } catch (err) {
      if (isUniqueViolation(err))
        throw new GatewayError('INVALID_REQUEST', `an organization named ${input.name} exists already`, {
          status: 409,
          param: 'name',
        });
      throw err;
    }
  }

  async listOrgs(): Promise<{ object: 'list'; data: OrgJson[] }> {
    return { object: 'list', data: (await this.repo.listOrgs()).map(orgJson) };
  }

  async getOrg(id: string): Promise<OrgJson> {
    const org = await this.repo.findOrg(id);
    if (!org) throw new GatewayError('NOT_FOUND', `no organization ${id}`);
    return orgJson(org);
  }

  async updateOrg(id: string, patch: OrgPatch): Promise<OrgJson> {
    await this.getOrg(id);
    try {
      return orgJson(await this.repo.updateOrg(id, patch.name !== undefined ? { name: patch.name } : {}));
    } catch (err) {
      if (isUniqueViolation(err))
        throw new GatewayError(
          'INVALID_REQUEST',
          `an organization named ${patch.name ?? ''} exists already`,
          { status: 409, param: 'name' },
        );
      throw err;
    }
  }

  async createTeam(input: TeamCreate): Promise<TeamJson> {
    try {
      // the org check and the insert commit together: an org removed in between cannot leave a dangling team
      const row = await this.repo.transaction(async (tx) => {
        if (input.orgId !== undefined && !(await this.repo.findOrg(input.orgId, tx))) {
          throw new GatewayError('INVALID_REQUEST', `unknown organization ${input.orgId}`, {
            param: 'orgId',
          });
        }
        return this.repo.createTeam(
          {
            id: newId('team'),
            orgId: input.orgId ?? null,
            name: input.name,
            budgetNanoUsd: nano(input.budgetUsd) ?? null,
            budgetPeriod: input.budgetPeriod ?? null,
            rpm: input.rpm ?? null,
            tpm: input.tpm ?? null,
            maxConcurrent: input.maxConcurrent ?? null,
            models: input.models ?? [],
            modelLimits: input.modelLimits ?? {},
          },
          tx,
        );
      });
      return teamJson(row);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new GatewayError('INVALID_REQUEST', `a team named ${input.name} exists already`, {
          status: 409,
          param: 'name',
        });
      throw err;
    }
  }

  async listTeams(orgId: string | undefined): Promise<{ object: 'list'; data: TeamJson[] }> {
    return { object: 'list', data: (await this.repo.listTeams(orgId)).map(teamJson) };
  }

  async getTeam(id: string): Promise<TeamJson> {
    const team = await this.repo.findTeam(id);
    if (!team) throw new GatewayError('NOT_FOUND', `no team ${id}`);
    return teamJson(team);
  }

  async updateTeam(id: string, patch: TeamPatch): Promise<TeamJson> {
    await this.getTeam(id);
    const data: Prisma.TeamUncheckedUpdateInput = {};
    if (patch.orgId !== undefined) data.orgId = patch.orgId;
    if (patch.maxConcurrent !== undefined) data.maxConcurrent = patch.maxConcurrent;
    if (patch.models !== undefined) data.models = patch.models;
    if (patch.modelLimits !== undefined) data.modelLimits = patch.modelLimits;
    if (patch.name !== undefined) data.name = patch.name;
    if (patch.budgetUsd !== undefined) data.budgetNanoUsd = nano(patch.budgetUsd);
    if (patch.budgetPeriod !== undefined) data.budgetPeriod = patch.budgetPeriod;
    if (patch.rpm !== undefined) data.rpm = patch.rpm;
    if (patch.tpm !== undefined) data.tpm = patch.tpm;
    try {
      const row = await this.repo.transaction(async (tx) => {
        if (patch.orgId && !(await this.repo.findOrg(patch.orgId, tx))) {
          throw new GatewayError('INVALID_REQUEST', `unknown organization ${patch.orgId}`, {
            param: 'orgId',
          });
        }
        return this.repo.updateTeam(id, data, tx);
      });
      // limits, budgets and models of a team shape every key of it: every replica drops its cached keys
      this.auth.invalidate(null);
      return teamJson(row);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new GatewayError('INVALID_REQUEST', `a team named ${patch.name ?? ''} exists already`, {
          status: 409,
          param: 'name',
        });
      throw err;
    }
  }

  /** The secret is returned here once; only its sha256 (and a short prefix for display) is stored. */
  async createKey(input: KeyCreate): Promise<KeyJson & { key: string }> {
    const key = `sk-gw-${randomBytes(32).toString('base64url')}`;
    const row = await this.repo.transaction(async (tx) => {
      const team = await this.repo.findTeam(input.teamId, tx);
      if (!team)
        throw new GatewayError('INVALID_REQUEST', `unknown team ${input.teamId}`, { param: 'teamId' });
      return this.repo.createKey(
        {
          id: newId('key'),
          teamId: team.id,
          name: input.name,
          keyHash: hashKey(key),
          keyPrefix: key.slice(0, KEY_PREFIX_CHARS),
          role: input.role ?? 'member',
          models: input.models ?? [],
          rpm: input.rpm ?? null,
          tpm: input.tpm ?? null,
          budgetNanoUsd: nano(input.budgetUsd) ?? null,
          budgetPeriod: input.budgetPeriod ?? null,
          tags: input.tags ?? {},
          maxConcurrent: input.maxConcurrent ?? null,
          modelLimits: input.modelLimits ?? {},
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        },
        tx,
      );
    });
    return { ...keyJson(row), key };
  }

  async listKeys(teamId: string | undefined): Promise<{ object: 'list'; data: KeyJson[] }> {
    return { object: 'list', data: (await this.repo.listKeys(teamId)).map(keyJson) };
  }

  async getKey(id: string): Promise<KeyJson> {
    const row = await this.repo.findKey(id);
    if (!row) throw new GatewayError('NOT_FOUND', `no key ${id}`);
    return keyJson(row);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<KeyJson> {
    const existing = await this.repo.findKey(id);
    if (!existing) throw new GatewayError('NOT_FOUND', `no key ${id}`);
    const data: Prisma.ApiKeyUncheckedUpdateInput = {};
    if (patch.name !== undefined) data.name = patch.name;
    if (patch.models !== undefined) data.models = patch.models;
    if (patch.rpm !== undefined) data.rpm = patch.rpm;
    if (patch.tpm !== undefined) data.tpm = patch.tpm;
    if (patch.budgetUsd !== undefined) data.budgetNanoUsd = nano(patch.budgetUsd);
    if (patch.budgetPeriod !== undefined) data.budgetPeriod = patch.budgetPeriod;
    if (patch.expiresAt !== undefined)
      data.expiresAt = patch.expiresAt === null ? null : new Date(patch.expiresAt);
    if (patch.role !== undefined) data.role = patch.role;
    if (patch.tags !== undefined) data.tags = patch.tags;
    if (patch.maxConcurrent !== undefined) data.maxConcurrent = patch.maxConcurrent;
    if (patch.modelLimits !== undefined) data.modelLimits = patch.modelLimits;
    const row = await this.repo.updateKey(id, data);
    this.auth.invalidate([row.keyHash]);
    return keyJson(row);
  }

  /** Revokes a key (kept for the ledger's sake): every replica drops it on the broadcast; the 1 s cache TTL is the backstop. */
  async revokeKey(id: string): Promise<KeyJson> {
    const existing = await this.repo.findKey(id);
    if (!existing) throw new GatewayError('NOT_FOUND', `no key ${id}`);
    const row = existing.revokedAt ? existing : await this.repo.updateKey(id, { revokedAt: new Date() });
    this.auth.invalidate([row.keyHash]);
    return keyJson(row);
  }
}

function usd(n: bigint | null): string | null {
  return n === null ? null : formatNanoUsd(n);
}

function orgJson(o: OrgRow): OrgJson {
  return {
    id: o.id,
    object: 'organization',
    name: o.name,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

function teamJson(t: TeamRow): TeamJson {
  return {
    id: t.id,
    object: 'team',
    name: t.name,
    orgId: t.orgId,
    budgetUsd: usd(t.budgetNanoUsd),
    budgetPeriod: t.budgetPeriod,
    rpm: t.rpm,
    tpm: t.tpm,
    maxConcurrent: t.maxConcurrent,
    models: t.models,
    modelLimits: t.modelLimits,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

function keyJson(k: KeyRow): KeyJson {
  return {
    id: k.id,
    object: 'api_key',
    teamId: k.teamId,
    name: k.name,
    keyPrefix: k.keyPrefix,
    role: k.role,
    models: k.models,
    rpm: k.rpm,
    tpm: k.tpm,
    budgetUsd: usd(k.budgetNanoUsd),
    budgetPeriod: k.budgetPeriod,
    tags: k.tags,
    maxConcurrent: k.maxConcurrent,
    modelLimits: k.modelLimits,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
    createdAt: k.createdAt.toISOString(),
    updatedAt: k.updatedAt.toISOString(),
  };
}
