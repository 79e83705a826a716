import { Inject, Injectable } from '@nestjs/common';
import { BUDGET_PERIODS, type BudgetPeriod } from '@gw/budgets';
import type { PrismaClient } from '@gw/db';
import { PRISMA } from '../config/tokens.js';
import {
  allowedModels,
  type Budget,
  type Identity,
  type Limits,
  type ModelLimits,
  type Role,
} from './identity.js';

const LIMIT_FIELDS = {
  rpm: true,
  tpm: true,
  maxConcurrent: true,
  modelLimits: true,
  budgetNanoUsd: true,
  budgetPeriod: true,
} as const;

/** identity.api_keys with its team, read side of the hot path (one query per cold key). */
@Injectable()
export class KeysRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async findByHash(keyHash: string): Promise<Identity | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyHash },
      select: {
        id: true,
        teamId: true,
        role: true,
        models: true,
        tags: true,
        expiresAt: true,
        revokedAt: true,
        ...LIMIT_FIELDS,
        team: { select: { orgId: true, models: true, ...LIMIT_FIELDS } },
      },
    });
    if (!row) return null;
    return {
      keyId: row.id,
      keyHash,
      teamId: row.teamId,
      orgId: row.team.orgId,
      role: row.role as Role,
      models: allowedModels(row.models, row.team.models),
      tags: stringRecord(row.tags),
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
      revoked: row.revokedAt !== null,
      keyLimits: limits(row),
      teamLimits: limits(row.team),
      keyBudget: budget(row.budgetNanoUsd, row.budgetPeriod),
      teamBudget: budget(row.team.budgetNanoUsd, row.team.budgetPeriod),
    };
  }
}

function limits(r: {
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  modelLimits: unknown;
}): Limits {
  return { rpm: r.rpm, tpm: r.tpm, maxConcurrent: r.maxConcurrent, modelLimits: modelLimits(r.modelLimits) };
}

/** A budget applies when an amount is set; without a period it is a total (lifetime) budget. */
function budget(nano: bigint | null, period: string | null): Budget | null {
  if (nano === null) return null;
  const p = (BUDGET_PERIODS as readonly string[]).includes(period ?? '') ? (period as BudgetPeriod) : 'total';
  return { limitNanoUsd: nano, period: p };
}

function modelLimits(v: unknown): ModelLimits {
  const out: ModelLimits = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [model, l] of Object.entries(v as Record<string, unknown>)) {
    if (!l || typeof l !== 'object') continue;
    const x = l as Record<string, unknown>;
    const n = (k: string): number | undefined => {
      const value = x[k];
      return typeof value === 'number' && value > 0 ? value : undefined;
    };
    out[model] = { rpm: n('rpm'), tpm: n('tpm'), maxConcurrent: n('maxConcurrent') };
  }
  return out;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}
