import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, ledgerInvariants, usageEvent, type BillingHarness } from './testing/harness.js';

/**
 * Issue 6: "nothing lost or doubled across ... Postgres restarts". What billing sees of a Postgres restart is every
 * connection dropped at once, in the middle of whatever it was doing (an open transaction, a query, an idle pooled
 * connection), and refused connections for a while. This test does exactly that to billing's database, over and
 * over, while 600 events (150 of them published twice under other message ids) are consumed: every connection to
 * the database is terminated (pg_terminate_backend) every 40 ms, and new connections are refused for part of the
 * time (ALLOW_CONNECTIONS false). At the end: exactly the unique events are stored, each once, and the ledger's
 * invariants hold. The shared Postgres server itself is not restarted: other suites use it at the same time.
 */
let h: BillingHarness;
let admin: pg.Client;
let dbName: string;

beforeAll(async () => {
  h = await billingHarness({ name: 'pgdrop', batchSize: 50, env: process.env });
  h.db.on('error', () => undefined); // the test's own pooled connections are dropped too
  dbName = (await h.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  admin = new pg.Client({ connectionString: process.env['POSTGRES_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await h.start();
});

afterAll(async () => {
  await admin?.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
  await admin?.end();
  await h?.close();
});

describe('billing across Postgres dropping every connection', () => {
  it('stores each unique event exactly once, with balanced entries, while its connections keep being killed', async () => {
    const prefix = `pgdrop-${h.suffix}-`;
    const unique = Array.from({ length: 600 }, (_, i) => usageEvent(`${prefix}${i}`, { keyId: `k${i % 7}`, costNanoUsd: String(1000 + i), providerId: 'anthropic', model: 'claude' }));
    const copies = unique.filter((_, i) => i % 4 === 0).map((e) => ({ payload: e, msgID: `${e.requestId}#again` }));

    let killing = true;
    let kills = 0;
    const killer = (async () => {
      for (let round = 0; killing; round++) {
        const refuse = round % 5 === 0; // every fifth round the "server" also refuses connections for 150 ms
        if (refuse) await admin.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS false`);
        const r = await admin.query(`SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
        kills += Number((r.rows[0] as { n: string }).n);
        if (refuse) {
          await new Promise((res) => setTimeout(res, 150));
          await admin.query(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`);
        }
        await new Promise((res) => setTimeout(res, 40));
      }
    })();

    const messages = unique.map((e) => ({ payload: e, msgID: e.requestId }));
    for (let i = 0; i < messages.length; i += 100) {
      await h.publish([...messages.slice(i, i + 100), ...copies.filter((_, j) => j % 6 === i / 100)]);
      await new Promise((res) => setTimeout(res, 100)); // consumption and killing overlap
    }
    await new Promise((res) => setTimeout(res, 1_500));
    killing = false;
    await killer;
    expect(kills).toBeGreaterThan(10);

    const mine = `SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`;
    await h.waitFor('every unique event stored', async () => (await h.count(mine, [`${prefix}%`]).catch(() => -1)) === unique.length, 90_000);
    await h.drained();
    expect(await h.count(mine, [`${prefix}%`])).toBe(unique.length);
    const inv = await ledgerInvariants(h.db);
    expect(inv).toMatchObject({ unbalanced: 0, badBalances: 0, recordsWithoutTx: 0 });
    expect(inv.txCount).toBe(inv.records);
    const charged = await h.db.query<{ total: string }>(
      `SELECT coalesce(sum(e.amount_nano_usd), 0)::text AS total
         FROM billing.usage_records u JOIN billing.ledger_transactions t ON t.usage_record_id = u.id
         JOIN billing.ledger_entries e ON e.transaction_id = t.id AND e.amount_nano_usd > 0
        WHERE u.request_id LIKE $1`,
      [`${prefix}%`],
    );
    expect(BigInt(charged.rows[0]!.total)).toBe(unique.reduce((n, e) => n + BigInt(e.costNanoUsd), 0n));
    // billing is still serving after all that
    expect((await h.http('GET', '/health')).status).toBe(200);
  }, 180_000);
});
