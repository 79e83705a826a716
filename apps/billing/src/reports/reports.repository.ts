import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import { uncovered, wholeDays, type ExportQuery, type GroupBy, type SpendFilter, type TimeWindow, type UsageQuery } from './query.js';

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
  input_images: number;
  cost_nano_usd: string;
  latency_ms: number;
  cache_status: string;
  status: string;
  error_code: string | null;
  usage_estimated: boolean;
  stream: boolean;
  tags: Record<string, string>;
  attempts: number;
  mode: string;
  routing: unknown;
  saving_nano_usd: string;
  price_id: string | null;
};

/** One group of an aggregate: `groups[i]` is the value of the i-th grouping (null = records without it). */
export type AggregateRow = {
  groups: Array<string | null>;
  requests: string;
  input_tokens: string;
  output_tokens: string;
  cached_requests: string;
  cost: string;
  saving: string;
};

export type TeamLedgerRow = { team_id: string | null; team_name: string | null; charged: string };

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
  input_tokens, output_tokens, cached_input_tokens, input_images, cost_nano_usd, latency_ms, cache_status, status, error_code,
  usage_estimated, stream, tags, attempts, mode, routing, saving_nano_usd, price_id`;

/** The SQL expression each groupBy groups on in the raw records (a fixed set: never built from the query string). */
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
    case 'tag':
      return `tag.k || '=' || tag.v`;
    default: {
      const never: never = groupBy;
      throw new Error(`unknown groupBy ${String(never)}`);
    }
  }
}

/** The same groupings over billing.spend_daily ('' stands for none there). Tags are not rolled up. */
export function rollupGroupExpression(groupBy: Exclude<GroupBy, 'tag'>): string {
  switch (groupBy) {
    case 'team':
      return `nullif(team_id, '')`;
    case 'key':
      return `nullif(key_id, '')`;
    case 'model':
      return 'model';
    case 'provider':
      return `nullif(provider_id, '')`;
    case 'day':
      return `to_char(day, 'YYYY-MM-DD')`;
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

  /**
   * Exact sums over a window, grouped by `groups` (in order), filtered. Whole UTC days whose daily rollup is fresh
   * come from billing.spend_daily; everything else (the partial-day edges, days not rolled up or gone stale, and any
   * tag query) from the raw records. Both reads share one REPEATABLE READ snapshot, so a batch committing meanwhile
   * is either in both the raw rows and (as a dropped freshness mark) the rollup choice, or in neither.
   */
  async aggregate(w: TimeWindow, f: SpendFilter, groups: readonly GroupBy[]): Promise<AggregateRow[]> {
    const useRollup = f.tag === null && !groups.includes('tag');
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      let fresh: string[] = [];
      const { days } = wholeDays(w);
      if (useRollup && days.length > 0) {
        const r = await client.query<{ day: string }>(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day FROM billing.spend_daily_state WHERE day = ANY($1::date[]) ORDER BY day`,
          [days],
        );
        fresh = r.rows.map((x) => x.day);
      }
      const values: unknown[] = [];
      const gAlias = groups.map((_, i) => `g${i}`);
      const parts: string[] = [];
      if (fresh.length > 0) {
        const where = [`day = ANY($${values.push(fresh)}::date[])`];
        if (f.teamId !== null) where.push(`team_id = $${values.push(f.teamId)}`);
        if (f.keyId !== null) where.push(`key_id = $${values.push(f.keyId)}`);
        if (f.model !== null) where.push(`model = $${values.push(f.model)}`);
        if (f.provider !== null) where.push(`provider_id = $${values.push(f.provider)}`);
        const exprs = groups.map((g, i) => `${rollupGroupExpression(g as Exclude<GroupBy, 'tag'>)} AS g${i}`);
        parts.push(
          `SELECT ${[...exprs, 'sum(requests) AS requests', 'sum(input_tokens) AS input_tokens', 'sum(output_tokens) AS output_tokens',
            'sum(cached_requests) AS cached_requests', 'sum(cost_nano_usd) AS cost', 'sum(saving_nano_usd) AS saving'].join(', ')}
             FROM billing.spend_daily WHERE ${where.join(' AND ')} ${groups.length ? `GROUP BY ${gAlias.join(', ')}` : ''}`,
        );
      }
      const ranges = uncovered(w, fresh);
      if (ranges.length > 0) {
        const time = ranges.map((r) => `(occurred_at >= $${values.push(r.from)} AND occurred_at < $${values.push(r.to)})`).join(' OR ');
        const where = [`(${time})`];
        if (f.teamId !== null) where.push(`team_id = $${values.push(f.teamId)}`);
        if (f.keyId !== null) where.push(`key_id = $${values.push(f.keyId)}`);
        if (f.model !== null) where.push(`coalesce(model, requested_model) = $${values.push(f.model)}`);
        if (f.provider !== null) where.push(`provider_id = $${values.push(f.provider)}`);
        if (f.tag !== null) {
          where.push(
            f.tag.value === null
              ? `tags ? $${values.push(f.tag.key)}`
              : `tags @> jsonb_build_object($${values.push(f.tag.key)}::text, $${values.push(f.tag.value)}::text)`,
          );
        }
        const tagJoin = groups.includes('tag') ? 'LEFT JOIN LATERAL jsonb_each_text(u.tags) AS tag(k, v) ON true' : '';
        const exprs = groups.map((g, i) => `${groupExpression(g)} AS g${i}`);
        parts.push(
          `SELECT ${[...exprs, 'count(*) AS requests', 'sum(input_tokens) AS input_tokens', 'sum(output_tokens) AS output_tokens',
            `count(*) FILTER (WHERE cache_status = 'hit') AS cached_requests`, 'sum(cost_nano_usd) AS cost', 'sum(saving_nano_usd) AS saving'].join(', ')}
             FROM billing.usage_records u ${tagJoin} WHERE ${where.join(' AND ')} ${groups.length ? `GROUP BY ${gAlias.join(', ')}` : ''}`,
        );
      }
      if (parts.length === 0) {
        await client.query('COMMIT');
        return [];
      }
      const r = await client.query<Record<string, string | null>>(
        `SELECT ${[...gAlias, 'sum(requests)::text AS requests', 'sum(input_tokens)::text AS input_tokens', 'sum(output_tokens)::text AS output_tokens',
          'sum(cached_requests)::text AS cached_requests', 'sum(cost)::text AS cost', 'sum(saving)::text AS saving'].join(', ')}
           FROM (${parts.join('\n UNION ALL \n')}) x
          ${groups.length ? `GROUP BY ${gAlias.join(', ')}` : ''} HAVING sum(requests) > 0`,
        values,
      );
      await client.query('COMMIT');
      return r.rows.map((row) => ({
        groups: gAlias.map((a) => row[a] ?? null),
        requests: row['requests'] ?? '0',
        input_tokens: row['input_tokens'] ?? '0',
        output_tokens: row['output_tokens'] ?? '0',
        cached_requests: row['cached_requests'] ?? '0',
        cost: row['cost'] ?? '0',
        saving: row['saving'] ?? '0',
      }));
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** What the ledger charged each team's accounts (its keys' and its own) for transactions in the window. */
  async ledgerByTeam(w: TimeWindow): Promise<TeamLedgerRow[]> {
    const r = await this.pool.query<TeamLedgerRow>(
      `SELECT a.team_id, t.name AS team_name, sum(e.amount_nano_usd)::text AS charged
         FROM billing.ledger_transactions tx
         JOIN billing.ledger_entries e ON e.transaction_id = tx.id
         JOIN billing.accounts a ON a.id = e.account_id AND a.kind IN ('key', 'team', 'system')
         LEFT JOIN identity.teams t ON t.id = a.team_id
        WHERE tx.occurred_at >= $1 AND tx.occurred_at < $2
        GROUP BY a.team_id, t.name`,
      [w.from, w.to],
    );
    return r.rows;
  }

  /** Team names by id (for reports). */
  async teamNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const r = await this.pool.query<{ id: string; name: string }>('SELECT id, name FROM identity.teams WHERE id = ANY($1::text[])', [ids]);
    return new Map(r.rows.map((x) => [x.id, x.name]));
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
