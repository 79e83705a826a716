import type { BudgetPeriod } from '@gw/budgets';

export type Role = 'member' | 'admin' | 'finance';

/** Per-model rate limits of a key or a team: `{ "gpt-4o": { "rpm": 10, "tpm": 10000 } }`. */
export type ModelLimits = Record<
  string,
  { rpm?: number | undefined; tpm?: number | undefined; maxConcurrent?: number | undefined }
>;

/** Rate limits of one key or team; null = unlimited. */
export type Limits = {
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
  modelLimits: ModelLimits;
};

export type Budget = { limitNanoUsd: bigint; period: BudgetPeriod };

/** Who is calling: a virtual key and what it may do. */
export type Identity = {
  keyId: string;
  keyHash: string;
  teamId: string;
  orgId: string | null;
  role: Role;
  /** models the key may use: the intersection of the key's and the team's lists; null = every model */
  models: string[] | null;
  tags: Record<string, string>;
  /** epoch ms, or null */
  expiresAt: number | null;
  revoked: boolean;
  keyLimits: Limits;
  teamLimits: Limits;
  keyBudget: Budget | null;
  teamBudget: Budget | null;
};

/** A list of allowed models: an empty list allows every model. The key may use what both its list and its team's allow. */
export function allowedModels(keyModels: readonly string[], teamModels: readonly string[]): string[] | null {
  if (keyModels.length === 0 && teamModels.length === 0) return null;
  if (keyModels.length === 0) return [...teamModels];
  if (teamModels.length === 0) return [...keyModels];
  const team = new Set(teamModels);
  return keyModels.filter((m) => team.has(m));
}
