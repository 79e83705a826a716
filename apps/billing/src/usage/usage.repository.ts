import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import { batchAccounts, batchDays, buildInsertBatch, type UsageRow } from './usage-sql.js';

/** Advisory lock space of a UTC day: the ingest holds it shared while writing, a daily rollup exclusively. */
export const DAY_LOCK_SPACE = 727_003;

export type BatchResult = { inserted: number };

@Injectable()
export class UsageRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Stores a batch in ONE database transaction: the ledger accounts it posts to, then (one statement) the new usage
   * rows with their ledger transactions, entries and balance updates. Either all of it commits or none of it does,
   * so a crash at any point leaves the batch to be redelivered and stored whole; rows already stored are skipped.
   */
  async insertBatch(rows: readonly UsageRow[]): Promise<BatchResult> {
    if (rows.length === 0) return { inserted: 0 };
    const accounts = batchAccounts(rows);
    const { text, values } = buildInsertBatch(rows);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      // a day being rolled up waits for this batch (and the reverse), so a rollup never misses a committed row
      await client.query('SELECT pg_advisory_xact_lock_shared($1, d) FROM unnest($2::int[]) AS d ORDER BY d', [DAY_LOCK_SPACE, batchDays(rows)]);
      await client.query(
        `INSERT INTO billing.accounts (id, kind, ref, team_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (id) DO NOTHING`,
        [accounts.map((a) => a.id), accounts.map((a) => a.kind), accounts.map((a) => a.ref), accounts.map((a) => a.teamId)],
      );
      const r = await client.query<{ inserted: number }>(text, values);
      await client.query('COMMIT');
      return { inserted: r.rows[0]?.inserted ?? 0 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
