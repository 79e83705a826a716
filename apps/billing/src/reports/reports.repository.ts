import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import type { ExportQuery, GroupBy, SpendQuery, UsageQuery } from './query.js';

/** A usage_records row as pg returns it (int8 as string, timestamptz as Date, jsonb parsed). */
export type UsageRecordRow = {
  id: string;
  request_id: string;
  occurred_at: Date;
  org_id: string | null;
  team_id: string | null;
  key_id: string | null;
  end_user: string | null;
  requested_model: string;
  provider_id: string | null;
  model: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_nano_usd: string;
  latency_ms: number;
  cache_status: string;
  status: string;
  error_code: string | null;
  usage_estimated: boolean;
  stream: boolean;
  tags: Record<string, string>;
  attempts: number;
};

export type SpendRow = { grp: string | null; requests: string; input_tokens: string; output_tokens: string; cached_requests: string; cost: string };

export type BudgetRow = {
  kind: 'team' | 'key';
  id: string;
  name: string;
  team_id: string | null;
  budget: string;
  period: string | null;
  period_start: Date | null;
  spent: string;
};

const RECORD_COLUMNS = `id, request_id, occurred_at, org_id, team_id, key_id, end_user, requested_model, provider_id, model,
  input_tokens, output_tokens, cached_input_tokens, cost_nano_usd, latency_ms, cache_status, status, error_code,
  usage_estimated, stream, tags, attempts`;

/** The SQL expression each groupBy groups on (a fixed set: never built from the query string). */
export function groupExpression(groupBy: GroupBy): string {
  switch (groupBy) {
    case 'team':
      return 'team_id';
    case 'key':
      return 'key_id';
    case 'model':
      return 'coalesce(model, requested_model)';
    case 'provider':
      return 'provider_id';
    case 'day':
      return `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
    default: {
      const never: never = groupBy;
      throw new Error(`unknown groupBy ${String(never)}`);
    }
  }
}

/** WHERE clause of a time window plus optional team/key filters; parameters start at $1. */
function filters(q: { from: Date; to: Date; teamId: string | null; keyId?: string | null }): { where: string; values: unknown[] } {
  const values: unknown[] = [q.from, q.to];
  const parts = ['occurred_at >= $1', 'occurred_at < $2'];
  if (q.teamId !== null) parts.push(`team_id = $${values.push(q.teamId)}`);
  if (q.keyId !== undefined && q.keyId !== null) parts.push(`key_id = $${values.push(q.keyId)}`);
  return { where: parts.join(' AND '), values };
}

@Injectable()
export class ReportsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Sums are exact: sum(bigint) is numeric in Postgres and travels as text. */
  async spend(q: SpendQuery): Promise<SpendRow[]> {
    const { where, values } = filters(q);
    const g = groupExpression(q.groupBy);
    const order = q.groupBy === 'day' ? 'grp ASC' : 'sum(cost_nano_usd) DESC, grp ASC NULLS LAST';
    const r = await this.pool.query<SpendRow>(
      `SELECT ${g} AS grp, count(*)::text AS requests, sum(input_tokens)::text AS input_tokens,
              sum(output_tokens)::text AS output_tokens, (count(*) FILTER (WHERE cache_status = 'hit'))::text AS cached_requests,
              sum(cost_nano_usd)::text AS cost
         FROM billing.usage_records WHERE ${where} GROUP BY 1 ORDER BY ${order}`,
      values,
    );
    return r.rows;
  }

  /** One page, newest first; `limit + 1` rows are read so the caller knows whether there is a next page. */
  async usagePage(q: UsageQuery): Promise<UsageRecordRow[]> {
    const { where, values } = filters(q);
    let cond = where;
    if (q.cursor) {
      const a = values.push(q.cursor.occurredAt);
      const b = values.push(q.cursor.id);
      cond += ` AND (occurred_at, id) < ($${a}::timestamptz, $${b}::bigint)`;
    }
    const lim = values.push(q.limit + 1);
    const r = await this.pool.query<UsageRecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM billing.usage_records WHERE ${cond} ORDER BY occurred_at DESC, id DESC LIMIT $${lim}`,
      values,
    );
    return r.rows;
  }

  /**
   * Streams the records of a window from a server-side cursor, `fetchSize` rows at a time, oldest first. The
   * connection is held (in a read-only transaction) until the generator finishes or is abandoned.
   */
  async *exportRows(q: ExportQuery, fetchSize = 500): AsyncGenerator<UsageRecordRow> {
    const { where, values } = filters(q);
    const client = await this.pool.connect();
    let state: 'open' | 'done' | 'broken' = 'open';
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`DECLARE gw_export NO SCROLL CURSOR FOR SELECT ${RECORD_COLUMNS} FROM billing.usage_records WHERE ${where} ORDER BY occurred_at, id`, values);
      for (;;) {
        const r = await client.query<UsageRecordRow>(`FETCH ${fetchSize} FROM gw_export`);
        for (const row of r.rows) yield row;
        if (r.rows.length < fetchSize) break;
      }
      await client.query('COMMIT');
      state = 'done';
    } catch (err) {
      state = 'broken';
      throw err;
    } finally {
      // abandoned early (the client went away): end the transaction before the connection goes back;
      // failed: the connection is dropped, not reused
      if (state === 'open') await client.query('ROLLBACK').catch(() => (state = 'broken'));
      client.release(state === 'broken');
    }
  }

  /** Every team and live key with a budget, and what it spent in its current period (UTC day / month / all time). */
  async budgets(now: Date): Promise<BudgetRow[]> {
    const periodStart = (col: string) =>
      `CASE ${col} WHEN 'daily' THEN date_trunc('day', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                   WHEN 'monthly' THEN date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' END`;
    const r = await this.pool.query<BudgetRow>(
      `WITH b AS (
         SELECT 'team' AS kind, id, name, NULL::text AS team_id, budget_nano_usd, budget_period, ${periodStart('budget_period')} AS period_start
           FROM identity.teams WHERE budget_nano_usd IS NOT NULL
         UNION ALL
         SELECT 'key', id, name, team_id, budget_nano_usd, budget_period, ${periodStart('budget_period')}
           FROM identity.api_keys WHERE budget_nano_usd IS NOT NULL AND revoked_at IS NULL
       )
       SELECT b.kind, b.id, b.name, b.team_id, b.budget_nano_usd::text AS budget, b.budget_period AS period, b.period_start,
              (SELECT coalesce(sum(u.cost_nano_usd), 0)::text FROM billing.usage_records u
                WHERE ((b.kind = 'team' AND u.team_id = b.id) OR (b.kind = 'key' AND u.key_id = b.id))
                  AND u.occurred_at >= coalesce(b.period_start, '-infinity'::timestamptz)
                  AND u.occurred_at <= $1::timestamptz) AS spent
         FROM b ORDER BY b.kind DESC, b.name, b.id`,
      [now],
    );
    return r.rows;
  }

  /** The role of a live key with this hash, or null. */
  async keyRole(keyHash: string, now: Date): Promise<string | null> {
    const r = await this.pool.query<{ role: string }>(
      `SELECT role FROM identity.api_keys WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
      [keyHash, now],
    );
    return r.rows[0]?.role ?? null;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
