export const BUDGET_PERIODS = ['daily', 'monthly', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const DAY_MS = 86_400_000;

/**
 * The id of the period that `nowMs` falls in (UTC): `d2026-11-23`, `m2026-11`, or `t` for a total budget; and how
 * long its counters must live (to the end of the period plus a day of grace for late settlements; 0 = forever).
 */
export function periodOf(period: BudgetPeriod, nowMs: number): { id: string; ttlMs: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (period) {
    case 'daily': {
      const end = Date.UTC(y, m, d.getUTCDate() + 1);
      return { id: `d${d.toISOString().slice(0, 10)}`, ttlMs: end - nowMs + DAY_MS };
    }
    case 'monthly': {
      const end = Date.UTC(y, m + 1, 1);
      return { id: `m${d.toISOString().slice(0, 7)}`, ttlMs: end - nowMs + DAY_MS };
    }
    case 'total':
      return { id: 't', ttlMs: 0 };
    default:
      return assertUnreachable(period);
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unexpected budget period ${String(x)}`);
}
