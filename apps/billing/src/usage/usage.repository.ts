import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import { batchAccounts, batchDays, buildInsertBatch, type UsageRow } from './usage-sql.js';

/** Advisory lock space of a UTC day: the ingest holds it shared while writing, a daily rollup exclusively. */
export const DAY_LOCK_SPACE = 727_003;

export type BatchResult = { inserted: number };

/** Known accounts kept at most (then forgotten all at once and learnt again). */
const KNOWN_ACCOUNTS_MAX = 100_000;

@Injectable()
export class UsageRepository {
  /**
   * Ledger accounts known to be committed. Accounts are permanent (migration 0004: no delete, truncate or id change),
   * so once a batch naming them has committed they exist for good, and later batches skip inserting them (the insert
   * of ~500 accounts per batch was a round trip and a few ms of Postgres time each). Should one be missing all the
   * same (a database restored or replaced under a running billing), the entries' check refuses the batch
   * (foreign_key_violation): the set is forgotten and the redelivered batch inserts every account again.
   */
  private readonly knownAccounts = new Set<string>();

  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /**
   * Stores a batch in ONE database transaction: the ledger accounts it posts to (those not known yet), then (one
   * statement) the new usage rows with their ledger transactions, entries and balance updates. Either all of it commits or none of it does,
   * so a crash at any point leaves the batch to be redelivered and stored whole; rows already stored are skipped.
   */
  async insertBatch(rows: readonly UsageRow[]): Promise<BatchResult> {
    if (rows.length === 0) return { inserted: 0 };
    const accounts = batchAccounts(rows);
    const unknown = accounts.filter((a) => !this.knownAccounts.has(a.id));
    const { text, values } = buildInsertBatch(rows);
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      // a day being rolled up waits for this batch (and the reverse), so a rollup never misses a committed row
      await client.query('SELECT pg_advisory_xact_lock_shared($1, d) FROM unnest($2::int[]) AS d ORDER BY d', [DAY_LOCK_SPACE, batchDays(rows)]);
      if (unknown.length > 0)
        await client.query(
          `INSERT INTO billing.accounts (id, kind, ref, team_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT (id) DO NOTHING`,
          [unknown.map((a) => a.id), unknown.map((a) => a.kind), unknown.map((a) => a.ref), unknown.map((a) => a.teamId)],
        );
      const r = await client.query<{ inserted: number }>(text, values);
      await client.query('COMMIT');
      if (this.knownAccounts.size + unknown.length > KNOWN_ACCOUNTS_MAX) this.knownAccounts.clear();
      for (const a of accounts) this.knownAccounts.add(a.id);
      return { inserted: r.rows[0]?.inserted ?? 0 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      if ((err as { code?: string }).code === '23503') this.knownAccounts.clear(); // an account is missing after all
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
