import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';

const HOUR_MS = 3_600_000;

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
}
