import { z } from 'zod';

/** An amount in USD as billing formats it (`formatNanoUsd`: nine decimals, e.g. `"0.000001000"`). */
const UsdString = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal USD amount');

/**
 * A budget crossed a threshold (50, 80 or 100 % of its limit) in its period: billing publishes it once per
 * threshold and period (the settle script marks it in Redis), the worker POSTs it to BUDGET_ALERT_WEBHOOK_URL.
 * This is also the JSON body the webhook receives, an external format: keys and their order do not change
 * (a new field is a new optional key; anything else is a `.v2` subject).
 */
export const BudgetAlertEvent = z.object({
  type: z.literal('budget.threshold'),
  scope: z.enum(['key', 'team']),
  id: z.string().min(1),
  /** the budget's period id, as billing's budget key has it: `d2026-11-23` (daily), `m2026-11` (monthly), `t` (total) */
  period: z.string().min(1),
  thresholdPct: z.number().int().min(1).max(100),
  spentUsd: UsdString,
  budgetUsd: UsdString,
});
export type BudgetAlertEvent = z.infer<typeof BudgetAlertEvent>;

/** The idempotency key of an alert: the same for every delivery of it (JetStream message id, webhook header). */
export function budgetAlertId(a: Pick<BudgetAlertEvent, 'scope' | 'id' | 'period' | 'thresholdPct'>): string {
  return `budget:${a.scope}:${a.id}:${a.period}:${a.thresholdPct}`;
}
