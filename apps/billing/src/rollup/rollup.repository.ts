import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import { DAY_LOCK_SPACE } from '../usage/usage.repository.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The hour containing `iso`, as an ISO string; throws on a time that is not a whole hour. */
export function hourStartOf(iso: string): Date {
  const t = new Date(iso);
  if (!Number.isFinite(t.getTime())) throw new RangeError(`not a time: ${iso}`);
  return new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
}

@Injectable()
export class RollupRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Recomputes one hour of billing.spend_hourly from the raw usage records, in one transaction: the hour's old
   * rows go and the fresh aggregates come in, so running it twice (or after late events arrived) gives the same
   * result as running it once.
   */
  async rollupHour(hourStart: Date): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // one rollup of a given hour at a time across replicas
      await client.query('SELECT pg_advisory_xact_lock(727002, $1)', [Math.floor(hourStart.getTime() / HOUR_MS) % 2_000_000_000]);
      await client.query('DELETE FROM billing.spend_hourly WHERE hour_start = $1', [hourStart]);
      const r = await client.query(
        `INSERT INTO billing.spend_hourly
           (hour_start, team_id, key_id, model, provider_id, requests, input_tokens, output_tokens, cached_requests, cost_nano_usd, updated_at)
         SELECT $1::timestamptz, coalesce(team_id, ''), coalesce(key_id, ''), coalesce(model, requested_model), coalesce(provider_id, ''),
                count(*), sum(input_tokens), sum(output_tokens), count(*) FILTER (WHERE cache_status = 'hit'), sum(cost_nano_usd), now()
           FROM billing.usage_records
          WHERE occurred_at >= $1::timestamptz AND occurred_at < $1::timestamptz + interval '1 hour'
          GROUP BY 2, 3, 4, 5`,
        [hourStart],
      );
      await client.query('COMMIT');
      return r.rowCount ?? 0;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Recomputes one UTC day of billing.spend_daily from the raw records and marks it fresh (spend_daily_state), in one
   * transaction holding the day's lock exclusively: a batch writing into that day waits, or is waited for, so the
   * rollup never misses a committed row; a row that lands later drops the mark and the day is read raw again.
   */
  async rollupDay(day: string): Promise<number> {
    const dayNumber = Date.parse(`${day}T00:00:00Z`) / DAY_MS;
    if (!Number.isInteger(dayNumber)) throw new RangeError(`not a day: ${day}`);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [DAY_LOCK_SPACE, dayNumber]);
      await client.query('DELETE FROM billing.spend_daily WHERE day = $1::date', [day]);
      const r = await client.query(
        `INSERT INTO billing.spend_daily
           (day, team_id, key_id, model, provider_id, requests, input_tokens, output_tokens, cached_requests, cost_nano_usd, saving_nano_usd)
         SELECT $1::date, coalesce(team_id, ''), coalesce(key_id, ''), coalesce(model, requested_model), coalesce(provider_id, ''),
                count(*), sum(input_tokens), sum(output_tokens), count(*) FILTER (WHERE cache_status = 'hit'), sum(cost_nano_usd), sum(saving_nano_usd)
           FROM billing.usage_records
          WHERE occurred_at >= $1::date::timestamp AT TIME ZONE 'UTC' AND occurred_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
          GROUP BY 2, 3, 4, 5`,
        [day],
      );
      const rows = r.rowCount ?? 0;
      await client.query(
        `INSERT INTO billing.spend_daily_state (day, rows, rolled_up_at) VALUES ($1::date, $2, now())
         ON CONFLICT (day) DO UPDATE SET rows = excluded.rows, rolled_up_at = excluded.rolled_up_at`,
        [day, rows],
      );
      await client.query('COMMIT');
      return rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Finished UTC days (before `now`'s day) that have usage but no fresh rollup, oldest first. The loose index scan
   * over occurred_at visits one row per day, so this stays cheap on a large table.
   */
  async staleDays(now: Date, limit = 400): Promise<string[]> {
    const r = await this.pool.query<{ day: string }>(
      `WITH RECURSIVE d AS (
         SELECT (min(occurred_at) AT TIME ZONE 'UTC')::date AS day FROM billing.usage_records
         UNION ALL
         SELECT (SELECT (min(occurred_at) AT TIME ZONE 'UTC')::date FROM billing.usage_records
                  WHERE occurred_at >= (d.day + 1)::timestamp AT TIME ZONE 'UTC')
           FROM d WHERE d.day IS NOT NULL
       )
       SELECT to_char(d.day, 'YYYY-MM-DD') AS day FROM d
        WHERE d.day IS NOT NULL AND d.day < ($1::timestamptz AT TIME ZONE 'UTC')::date
          AND NOT EXISTS (SELECT 1 FROM billing.spend_daily_state s WHERE s.day = d.day)
        ORDER BY d.day LIMIT $2`,
      [now, limit],
    );
    return r.rows.map((x) => x.day);
  }
}
