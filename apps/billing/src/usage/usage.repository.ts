import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import { buildInsertBatch, type UsageRow } from './usage-sql.js';

@Injectable()
export class UsageRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  /** Inserts a batch in one statement (one implicit transaction); returns how many rows were new. */
  async insertBatch(rows: readonly UsageRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const { text, values } = buildInsertBatch(rows);
    const r = await this.pool.query(text, values);
    return r.rowCount ?? 0;
  }
}
