export const BUDGET_PERIODS = ['daily', 'monthly', 'total'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const DAY_MS = 86_400_000;

/** The period that `nowMs` falls in (UTC): its id and its bounds [startMs, endMs) (±Infinity for a total budget). */
export function periodSpan(
  period: BudgetPeriod,
  nowMs: number,
): { id: string; startMs: number; endMs: number } {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (period) {
    case 'daily':
      return {
        id: `d${d.toISOString().slice(0, 10)}`,
        startMs: Date.UTC(y, m, d.getUTCDate()),
        endMs: Date.UTC(y, m, d.getUTCDate() + 1),
      };
    case 'monthly':
      return {
        id: `m${d.toISOString().slice(0, 7)}`,
        startMs: Date.UTC(y, m, 1),
        endMs: Date.UTC(y, m + 1, 1),
      };
    case 'total':
      return { id: 't', startMs: -Infinity, endMs: Infinity };
    default:
      return assertUnreachable(period);
  }
}

/** How long the counters of a period must live at `nowMs`: to its end plus a day of grace for late settlements; 0 = forever. */
export function periodTtlMs(span: { endMs: number }, nowMs: number): number {
  return span.endMs === Infinity ? 0 : span.endMs - nowMs + DAY_MS;
}

/**
 * The id of the period that `nowMs` falls in (UTC): `d2026-11-23`, `m2026-11`, or `t` for a total budget; and how
 * long its counters must live (to the end of the period plus a day of grace for late settlements; 0 = forever).
 */
export function periodOf(period: BudgetPeriod, nowMs: number): { id: string; ttlMs: number } {
  const span = periodSpan(period, nowMs);
  return { id: span.id, ttlMs: periodTtlMs(span, nowMs) };
}

function assertUnreachable(x: never): never {
  throw new Error(`unexpected budget period ${String(x)}`);
}
