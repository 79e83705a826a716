import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';

export const RECONCILE_CHECKS = ['entries_sum_to_zero', 'balances_equal_entries', 'one_transaction_per_usage_record', 'rollups_equal_raw'] as const;
export type ReconcileCheckName = (typeof RECONCILE_CHECKS)[number];
export type CheckOutcome = { check: ReconcileCheckName; breaks: number; sample: string[] };

const SAMPLE = 5;

/**
 * Each query returns one row per break, as an id that points at it. They run in one REPEATABLE READ transaction
 * so that the checks see one consistent snapshot while the ingest goes on.
 */
const QUERIES: Record<ReconcileCheckName, string> = {
  // every transaction: at least two entries, summing to zero
  entries_sum_to_zero: `
    SELECT 'transaction ' || t.id || ' (' || t.request_id || ')' AS id
      FROM billing.ledger_transactions t
      LEFT JOIN (SELECT transaction_id, sum(amount_nano_usd) AS total, count(*) AS n FROM billing.ledger_entries GROUP BY transaction_id) e
        ON e.transaction_id = t.id
     WHERE e.transaction_id IS NULL OR e.total <> 0 OR e.n < 2`,
  // every account: balance = sum of its entries, entries = their count
  balances_equal_entries: `
    SELECT 'account ' || coalesce(b.account_id, e.account_id) AS id
      FROM billing.balances b
      FULL JOIN (SELECT account_id, sum(amount_nano_usd) AS total, count(*) AS n FROM billing.ledger_entries GROUP BY account_id) e
        ON e.account_id = b.account_id
     WHERE b.account_id IS NULL OR e.account_id IS NULL OR b.balance_nano_usd <> e.total OR b.entries <> e.n`,
  // every usage record has exactly one transaction whose charge is the record's cost (and no transaction is orphaned)
  one_transaction_per_usage_record: `
    SELECT 'usage record ' || u.id || ' (' || u.request_id || ')' AS id
      FROM billing.usage_records u
      LEFT JOIN billing.ledger_transactions t ON t.usage_record_id = u.id
      LEFT JOIN LATERAL (SELECT coalesce(sum(amount_nano_usd) FILTER (WHERE amount_nano_usd > 0), 0) AS charged
                           FROM billing.ledger_entries WHERE transaction_id = t.id) e ON true
     WHERE t.id IS NULL OR t.request_id <> u.request_id OR e.charged <> u.cost_nano_usd`,
  // every day marked fresh: its rollup rows equal the raw sums, group by group
  rollups_equal_raw: `
    WITH fresh AS (SELECT day FROM billing.spend_daily_state),
    raw AS (
      SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS day, coalesce(team_id, '') AS team_id, coalesce(key_id, '') AS key_id,
             coalesce(model, requested_model) AS model, coalesce(provider_id, '') AS provider_id,
             count(*) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
             count(*) FILTER (WHERE cache_status = 'hit') AS cached_requests, sum(cost_nano_usd) AS cost, sum(saving_nano_usd) AS saving
        FROM billing.usage_records u
        JOIN fresh f ON u.occurred_at >= f.day::timestamp AT TIME ZONE 'UTC' AND u.occurred_at < (f.day + 1)::timestamp AT TIME ZONE 'UTC'
       GROUP BY 1, 2, 3, 4, 5
    ),
    rolled AS (SELECT s.* FROM billing.spend_daily s JOIN fresh f ON f.day = s.day)
    SELECT 'day ' || to_char(coalesce(r.day, s.day), 'YYYY-MM-DD') || ' team=' || coalesce(r.team_id, s.team_id) || ' key=' || coalesce(r.key_id, s.key_id)
           || ' model=' || coalesce(r.model, s.model) || ' provider=' || coalesce(r.provider_id, s.provider_id) AS id
      FROM raw r
      FULL JOIN rolled s USING (day, team_id, key_id, model, provider_id)
     WHERE r.day IS NULL OR s.day IS NULL OR r.requests <> s.requests OR r.input_tokens <> s.input_tokens OR r.output_tokens <> s.output_tokens
        OR r.cached_requests <> s.cached_requests OR r.cost <> s.cost_nano_usd OR r.saving <> s.saving_nano_usd`,
};

@Injectable()
export class ReconcileRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async runChecks(): Promise<CheckOutcome[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const out: CheckOutcome[] = [];
      for (const check of RECONCILE_CHECKS) {
        const r = await client.query<{ breaks: number; sample: string[] | null }>(
          `SELECT count(*)::int AS breaks, (array_agg(id ORDER BY id))[1:${SAMPLE}] AS sample FROM (${QUERIES[check]}) q`,
        );
        out.push({ check, breaks: r.rows[0]?.breaks ?? 0, sample: r.rows[0]?.sample ?? [] });
      }
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Appends the run to billing.reconciliation_runs; returns its id. */
  async recordRun(startedAt: Date, checks: CheckOutcome[]): Promise<string> {
    const breaks = checks.reduce((n, c) => n + c.breaks, 0);
    const r = await this.pool.query<{ id: string }>(
      `INSERT INTO billing.reconciliation_runs (started_at, ok, breaks, checks) VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id`,
      [startedAt, breaks === 0, breaks, JSON.stringify(checks)],
    );
    return r.rows[0]!.id;
  }
}
