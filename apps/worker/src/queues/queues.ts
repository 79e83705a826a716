import { z } from 'zod';

/**
 * The worker's queues and jobs, frozen in one place (a rename strands the jobs already in Redis).
 * Only the worker enqueues into these today; when another service needs to, they move to packages/contracts.
 */
export const QUEUES = { rollup: 'rollup', ledger: 'ledger' } as const;

export const ROLLUP_SCHEDULER_ID = 'rollup-hourly';

export const ROLLUP_JOBS = {
  /** fired by the job scheduler: rolls up the hour before the fire time and the hour of it */
  scheduled: 'rollup-scheduled',
  /** an explicit list of hours (backfill, tests) */
  hours: 'rollup-hours',
} as const;
export type RollupJobName = (typeof ROLLUP_JOBS)[keyof typeof ROLLUP_JOBS];

export const RollupJobData = z.object({ hourStarts: z.array(z.iso.datetime()).min(1).max(24 * 31).optional() });
export type RollupJobData = z.infer<typeof RollupJobData>;

export const RollupJobResult = z.object({ hours: z.array(z.object({ hourStart: z.string(), rows: z.number().int().nonnegative() })) });
export type RollupJobResult = z.infer<typeof RollupJobResult>;

const HOUR_MS = 3_600_000;

/** The previous hour and the current one, as ISO hour starts (UTC). */
export function hoursToRollUp(firedAt: Date): string[] {
  const current = Math.floor(firedAt.getTime() / HOUR_MS) * HOUR_MS;
  return [new Date(current - HOUR_MS).toISOString(), new Date(current).toISOString()];
}

/** The `ledger` queue: the daily spend rollup (of every finished day that is missing or stale) and reconciliation. */
export const LEDGER_SCHEDULERS = { rollupDays: 'ledger-rollup-days', reconcile: 'ledger-reconcile' } as const;

export const LEDGER_JOBS = {
  /** billing recomputes spend_daily for the given days, or for every finished day that is missing or stale */
  rollupDays: 'rollup-days',
  /** billing re-checks the ledger's invariants and records the run */
  reconcile: 'reconcile',
} as const;
export type LedgerJobName = (typeof LEDGER_JOBS)[keyof typeof LEDGER_JOBS];

export const LedgerJobData = z.object({ days: z.array(z.iso.date()).min(1).max(400).optional() });
export type LedgerJobData = z.infer<typeof LedgerJobData>;

export const LedgerJobResult = z.union([
  z.object({ kind: z.literal('rollup-days'), days: z.array(z.object({ day: z.string(), rows: z.number().int().nonnegative() })) }),
  z.object({ kind: z.literal('reconcile'), runId: z.string(), ok: z.boolean(), breaks: z.number().int().nonnegative() }),
]);
export type LedgerJobResult = z.infer<typeof LedgerJobResult>;
