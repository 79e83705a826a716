import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { PG_POOL } from '../config/tokens.js';
import type { ListPricesQuery, NewPrice, PriceAmounts } from './price-input.js';

/** Advisory lock serialising writers of billing.prices (admin calls, config seeding on several replicas). */
const PRICES_LOCK = 727_004;

export type PriceRow = PriceAmounts & {
  id: string;
  providerId: string;
  model: string;
  validFrom: Date;
  validTo: Date | null;
  source: 'config' | 'admin';
  createdAt: Date;
};

type Raw = {
  id: string;
  provider_id: string;
  model: string;
  input_nano_per_mtok: string;
  output_nano_per_mtok: string;
  cached_input_nano_per_mtok: string | null;
  per_request_nano: string;
  per_image_nano: string;
  valid_from: Date;
  valid_to: Date | null;
  source: 'config' | 'admin';
  created_at: Date;
};

const COLS = `id::text, provider_id, model, input_nano_per_mtok::text, output_nano_per_mtok::text, cached_input_nano_per_mtok::text,
  per_request_nano::text, per_image_nano::text, valid_from, valid_to, source, created_at`;

function toRow(r: Raw): PriceRow {
  return {
    id: r.id,
    providerId: r.provider_id,
    model: r.model,
    inputNanoPerMTok: BigInt(r.input_nano_per_mtok),
    outputNanoPerMTok: BigInt(r.output_nano_per_mtok),
    cachedInputNanoPerMTok: r.cached_input_nano_per_mtok === null ? null : BigInt(r.cached_input_nano_per_mtok),
    perRequestNano: BigInt(r.per_request_nano),
    perImageNano: BigInt(r.per_image_nano),
    validFrom: r.valid_from,
    validTo: r.valid_to,
    source: r.source,
    createdAt: r.created_at,
  };
}

/** A client inside a transaction that holds the prices lock. */
export type PricesTx = {
  current(providerId: string, model: string, at: Date): Promise<PriceRow | null>;
  /** the earliest price of provider + model starting after `at` */
  next(providerId: string, model: string, at: Date): Promise<PriceRow | null>;
  get(id: string): Promise<PriceRow | null>;
  insert(p: NewPrice): Promise<PriceRow>;
  close(id: string, validTo: Date): Promise<PriceRow>;
};

@Injectable()
export class PricesRepository {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async list(q: ListPricesQuery): Promise<PriceRow[]> {
    const values: unknown[] = [];
    const where: string[] = [];
    if (q.providerId) where.push(`provider_id = $${values.push(q.providerId)}`);
    if (q.model) where.push(`model = $${values.push(q.model)}`);
    if (q.at) {
      const i = values.push(q.at);
      where.push(`valid_from <= $${i} AND (valid_to IS NULL OR valid_to > $${i})`);
    }
    const r = await this.pool.query<Raw>(
      `SELECT ${COLS} FROM billing.prices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY provider_id, model, valid_from`,
      values,
    );
    return r.rows.map(toRow);
  }

  /** Runs `fn` in one transaction holding the prices lock: writers never interleave. */
  async transaction<T>(fn: (tx: PricesTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const one = async (sql: string, values: unknown[]): Promise<PriceRow | null> => {
      const r = await client.query<Raw>(sql, values);
      return r.rows[0] ? toRow(r.rows[0]) : null;
    };
    const tx: PricesTx = {
      current: (providerId, model, at) =>
        one(
          `SELECT ${COLS} FROM billing.prices WHERE provider_id = $1 AND model = $2 AND valid_from <= $3 AND (valid_to IS NULL OR valid_to > $3)`,
          [providerId, model, at],
        ),
      next: (providerId, model, at) =>
        one(`SELECT ${COLS} FROM billing.prices WHERE provider_id = $1 AND model = $2 AND valid_from > $3 ORDER BY valid_from LIMIT 1`, [providerId, model, at]),
      get: (id) => one(`SELECT ${COLS} FROM billing.prices WHERE id = $1`, [id]),
      insert: async (p) =>
        (await one(
          `INSERT INTO billing.prices (provider_id, model, input_nano_per_mtok, output_nano_per_mtok, cached_input_nano_per_mtok,
             per_request_nano, per_image_nano, valid_from, valid_to, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLS}`,
          [
            p.providerId,
            p.model,
            p.inputNanoPerMTok.toString(),
            p.outputNanoPerMTok.toString(),
            p.cachedInputNanoPerMTok === null ? null : p.cachedInputNanoPerMTok.toString(),
            p.perRequestNano.toString(),
            p.perImageNano.toString(),
            p.validFrom,
            p.validTo,
            p.source,
          ],
        ))!,
      close: async (id, validTo) => (await one(`UPDATE billing.prices SET valid_to = $2 WHERE id = $1 RETURNING ${COLS}`, [id, validTo]))!,
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [PRICES_LOCK]);
      const out = await fn(tx);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
