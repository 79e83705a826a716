import { z } from 'zod';
import { GatewayError } from '@gw/contracts';
import { paramPath } from '../http/openai-error.js';

const BudgetPeriod = z.enum(['daily', 'monthly', 'total']);
const Role = z.enum(['member', 'admin', 'finance']);
/**
 * USD, at most 9 decimals are kept (nano-USD); no negative budgets. At most 9,000,000 USD per period: the budget
 * scripts compare nano-USD amounts exactly up to 2^53 (packages/budgets).
 */
const BudgetUsd = z
  .number()
  .finite()
  .nonnegative('budgetUsd must not be negative')
  .max(9_000_000, 'budgetUsd is too large (at most 9000000)');
const Limit = z.number().int().positive().max(1e9);
const Models = z.array(z.string().min(1).max(200)).max(1000);
/** per-model rate limits: { "gpt-4o": { "rpm": 10, "tpm": 10000, "maxConcurrent": 2 } } */
const ModelLimits = z.record(
  z.string().min(1).max(200),
  z.strictObject({ rpm: Limit.optional(), tpm: Limit.optional(), maxConcurrent: Limit.optional() }),
);

export const OrgCreate = z.strictObject({ name: z.string().trim().min(1, 'name is required').max(200) });
export type OrgCreate = z.infer<typeof OrgCreate>;
export const OrgPatch = z.strictObject({ name: z.string().trim().min(1).max(200).optional() });
export type OrgPatch = z.infer<typeof OrgPatch>;

export const TeamCreate = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(200),
  orgId: z.string().min(1).optional(),
  budgetUsd: BudgetUsd.optional(),
  budgetPeriod: BudgetPeriod.optional(),
  rpm: Limit.optional(),
  tpm: Limit.optional(),
  maxConcurrent: Limit.optional(),
  models: Models.optional(),
  modelLimits: ModelLimits.optional(),
});
export type TeamCreate = z.infer<typeof TeamCreate>;

/** null clears a setting */
export const TeamPatch = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  orgId: z.string().min(1).nullable().optional(),
  budgetUsd: BudgetUsd.nullable().optional(),
  budgetPeriod: BudgetPeriod.nullable().optional(),
  rpm: Limit.nullable().optional(),
  tpm: Limit.nullable().optional(),
  maxConcurrent: Limit.nullable().optional(),
  models: Models.optional(),
  modelLimits: ModelLimits.optional(),
});
export type TeamPatch = z.infer<typeof TeamPatch>;

const Tags = z.record(z.string().min(1).max(64), z.string().max(256));

export const KeyCreate = z.strictObject({
  teamId: z.string().min(1, 'teamId is required'),
  name: z.string().trim().min(1, 'name is required').max(200),
  models: Models.optional(),
  rpm: Limit.optional(),
  tpm: Limit.optional(),
  budgetUsd: BudgetUsd.optional(),
  budgetPeriod: BudgetPeriod.optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  role: Role.optional(),
  tags: Tags.optional(),
  maxConcurrent: Limit.optional(),
  modelLimits: ModelLimits.optional(),
});
export type KeyCreate = z.infer<typeof KeyCreate>;

export const KeyPatch = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  models: Models.optional(),
  rpm: Limit.nullable().optional(),
  tpm: Limit.nullable().optional(),
  budgetUsd: BudgetUsd.nullable().optional(),
  budgetPeriod: BudgetPeriod.nullable().optional(),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  role: Role.optional(),
  tags: Tags.optional(),
  maxConcurrent: Limit.nullable().optional(),
  modelLimits: ModelLimits.optional(),
});
export type KeyPatch = z.infer<typeof KeyPatch>;

/** Validates an admin body; the first problem becomes a 400 naming the field (an unknown field by its name). */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new GatewayError('INVALID_REQUEST', 'invalid body');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const at = paramPath([...issue.path, key]);
    throw new GatewayError('INVALID_REQUEST', `unknown field: ${issue.keys.join(', ')}`, { param: at });
  }
  const param = paramPath(issue.path);
  throw new GatewayError('INVALID_REQUEST', param ? `${param}: ${issue.message}` : issue.message, { param });
}
