import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The SQL migrations shipped with this package (packages/db/migrations). */
const here = path.dirname(fileURLToPath(import.meta.url));
// src/migrate.ts in tests, dist/src/migrate.js when built
export const MIGRATIONS_DIR = [path.resolve(here, '../migrations'), path.resolve(here, '../../migrations')].find((d) =>
  existsSync(path.join(d, '0001_init.sql')),
)!;
const LOCK_ID = 727_001; // pg_advisory_lock key: one migrator at a time across replicas

export type MigrationResult = { applied: string[]; skipped: string[] };

/**
 * Applies the SQL files of `dir` in name order, each in its own transaction, under an advisory lock.
 * A table records each applied file with its checksum; a file changed after it was applied stops the run.
 */
export async function migrate(connectionString: string, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS public.gw_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map<string, string>();
    for (const row of (await client.query<{ name: string; checksum: string }>('SELECT name, checksum FROM public.gw_migrations')).rows)
      done.set(row.name, row.checksum);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
    const result: MigrationResult = { applied: [], skipped: [] };
    for (const file of files) {
      const sql = await readFile(path.join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const prior = done.get(file);
      if (prior) {
        if (prior !== checksum) throw new Error(`migration ${file} was changed after it was applied`);
        result.skipped.push(file);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO public.gw_migrations(name, checksum) VALUES ($1, $2)', [file, checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      result.applied.push(file);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    await client.end();
  }
}

/** Creates a database if it does not exist (used by infra scripts and tests). */
export async function ensureDatabase(adminConnectionString: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: adminConnectionString });
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(adminConnectionString: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new pg.Client({ connectionString: adminConnectionString });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
