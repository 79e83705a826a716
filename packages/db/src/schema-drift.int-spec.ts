import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, Prisma, type PrismaClient } from './client.js';
import { dropDatabase, ensureDatabase, migrate } from './migrate.js';

/**
 * schema.prisma is the typed view; the SQL migrations create the database. This test applies the migrations to a
 * fresh database and checks that the two agree: every Prisma model reads back through its table (Prisma selects
 * every mapped column, so a missing column fails), and every table of the gateway's schemas has a model.
 */
const ADMIN_URL = process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `gw_drift_${randomBytes(4).toString('hex')}`;
const url = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
let prisma: PrismaClient;

beforeAll(async () => {
  await ensureDatabase(ADMIN_URL, dbName);
  prisma = createPrismaClient(url, 2);
});
afterAll(async () => {
  await prisma?.$disconnect();
  await dropDatabase(ADMIN_URL, dbName);
});

describe('migrations and schema.prisma', () => {
  it('apply to a fresh database, once', async () => {
    const first = await migrate(url);
    expect(first.applied.length).toBeGreaterThan(0);
    const again = await migrate(url);
    expect(again.applied).toEqual([]);
  });

  it('every Prisma model reads through its table', async () => {
    for (const model of Object.values(Prisma.ModelName)) {
      const delegate = (prisma as unknown as Record<string, { findFirst(): Promise<unknown> }>)[model[0]!.toLowerCase() + model.slice(1)];
      expect(delegate, model).toBeDefined();
      await delegate!.findFirst();
    }
  });

  it('every table of the identity and billing schemas has a Prisma model', async () => {
    const schemaText = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../prisma/schema.prisma'), 'utf8');
    const mapped = new Set<string>();
    for (const block of schemaText.split(/\nmodel /).slice(1)) {
      const table = /@@map\("([^"]+)"\)/.exec(block)?.[1];
      const schema = /@@schema\("([^"]+)"\)/.exec(block)?.[1];
      if (table && schema) mapped.add(`${schema}.${table}`);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const tables = await client.query<{ t: string }>(
      "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('identity', 'billing') AND table_type = 'BASE TABLE'",
    );
    await client.end();
    expect(tables.rows.map((r) => r.t).sort()).toEqual([...mapped].sort());
  });

  it('a migration changed after it was applied stops the run', async () => {
    const { mkdtempSync, writeFileSync, copyFileSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { MIGRATIONS_DIR } = await import('./migrate.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-mig-'));
    for (const f of readdirSync(MIGRATIONS_DIR)) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    const first = readdirSync(dir).sort()[0]!;
    writeFileSync(path.join(dir, first), `${readFileSync(path.join(dir, first), 'utf8')}\n-- edited\n`);
    await expect(migrate(url, dir)).rejects.toThrow(/changed after it was applied/);
  });
});
