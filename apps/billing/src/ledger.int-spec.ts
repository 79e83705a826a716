import { costNanoUsd, GatewayConfig, UsageEvent } from '@gw/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from './auth/finance-auth.guard.js';
import { PricesService } from './prices/prices.service.js';
import { RollupRpc } from './rollup/rollup.rpc.js';
import { billingHarness, ledgerInvariants, usageEvent, type BillingHarness } from './testing/harness.js';
import { ReconcileService } from './reconcile/reconcile.service.js';
import { toUsageRow } from './usage/usage-sql.js';
import { UsageRepository } from './usage/usage.repository.js';

/** Real Postgres (a fresh database) and real JetStream (a private stream): prices, the ledger, rollups, reconciliation. */
let h: BillingHarness;
const config = GatewayConfig.parse({
  providers: [{ id: 'cfgprov', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' }],
  models: [
    { name: 'cfg-model', targets: [{ provider: 'cfgprov', model: 'cfg-up', price: { inputPerMTok: 1, outputPerMTok: 2, perRequest: 0.0001 } }] },
    { name: 'cfg-alias', targets: [{ provider: 'cfgprov', model: 'cfg-up', price: { inputPerMTok: 1, outputPerMTok: 2, perRequest: 0.0001 } }] },
  ],
});
const P1 = { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 };
const P2 = { inputPerMTok: 0.3, outputPerMTok: 1.2 };

beforeAll(async () => {
  h = await billingHarness({ name: 'ledger', gatewayConfig: config, env: process.env });
  await h.start();
  await h.db.query(`INSERT INTO identity.teams (id, name) VALUES ('team-1', 'Team One'), ('team-2', 'Team Two')`);
  await h.db.query(
    `INSERT INTO identity.api_keys (id, team_id, name, key_hash, key_prefix, role) VALUES
       ('k-fin', 'team-1', 'fin', $1, 'sk-f', 'finance'), ('k-adm', 'team-1', 'adm', $2, 'sk-a', 'admin'), ('k-mem', 'team-1', 'mem', $3, 'sk-m', 'member')`,
    [sha256Hex(`fin-${h.suffix}`), sha256Hex(`adm-${h.suffix}`), sha256Hex(`mem-${h.suffix}`)],
  );
});
afterAll(async () => h?.close());

type PriceJson = { id: string; providerId: string; model: string; inputPerMTok: string; validFrom: string; validTo: string | null; source: string };

describe('prices (admin API on billing)', () => {
  it('config prices are seeded on boot, once, and a replica booting again adds nothing', async () => {
    const rows = await h.db.query(`SELECT provider_id, model, input_nano_per_mtok::text AS i, per_request_nano::text AS r, source, valid_to FROM billing.prices`);
    expect(rows.rows).toEqual([{ provider_id: 'cfgprov', model: 'cfg-up', i: '1000000000', r: '100000', source: 'config', valid_to: null }]);
    await h.stop();
    await h.start();
    expect(await h.count(`SELECT count(*) AS n FROM billing.prices`)).toBe(1);
  });

  it('a changed config price replaces the old one from now on; an admin price is never overridden by the config', async () => {
    const prices = h.app().get(PricesService);
    const changed = GatewayConfig.parse({ ...config, models: [{ name: 'cfg-model', targets: [{ provider: 'cfgprov', model: 'cfg-up', price: { inputPerMTok: 3, outputPerMTok: 2, perRequest: 0.0001 } }] }] });
    expect(await prices.seedFromConfig(changed)).toEqual({ inserted: 0, replaced: 1, kept: 0 });
    expect(await prices.seedFromConfig(changed)).toEqual({ inserted: 0, replaced: 0, kept: 1 });
    const r = await h.http('GET', '/admin/v1/prices?providerId=cfgprov');
    const list = (r.json as { data: PriceJson[] }).data;
    expect(list.map((p) => [p.inputPerMTok, p.validTo === null])).toEqual([
      ['1.000000000', false],
      ['3.000000000', true],
    ]);
    expect(list[0]!.validTo).toBe(list[1]!.validFrom);
    // an admin sets its own price: the next seed keeps it
    expect((await h.http('POST', '/admin/v1/prices', { providerId: 'cfgprov', model: 'cfg-up', inputPerMTok: '5' })).status).toBe(201);
    expect(await prices.seedFromConfig(changed)).toEqual({ inserted: 0, replaced: 0, kept: 1 });
    const now = await h.http('GET', `/admin/v1/prices?providerId=cfgprov&at=${new Date().toISOString()}`);
    expect((now.json as { data: PriceJson[] }).data.map((p) => [p.inputPerMTok, p.source])).toEqual([['5.000000000', 'admin']]);
  });

  it('a new price closes the one in force at its start; overlaps are 409; only validTo can change', async () => {
    const first = await h.http('POST', '/admin/v1/prices', { providerId: 'openai', model: 'gpt-4o-mini', ...P1, validFrom: '2025-01-01T00:00:00Z' });
    expect(first.status).toBe(201);
    const second = await h.http('POST', '/admin/v1/prices', { providerId: 'openai', model: 'gpt-4o-mini', ...P2, validFrom: '2025-02-15T00:00:00Z' });
    expect(second.status).toBe(201);
    const list = (await h.http('GET', '/admin/v1/prices?providerId=openai&model=gpt-4o-mini')).json as { data: PriceJson[] };
    expect(list.data.map((p) => [p.validFrom, p.validTo])).toEqual([
      ['2025-01-01T00:00:00.000Z', '2025-02-15T00:00:00.000Z'],
      ['2025-02-15T00:00:00.000Z', null],
    ]);
    // inside the closed period: refused, and nothing half-created
    const overlap = await h.http('POST', '/admin/v1/prices', { providerId: 'openai', model: 'gpt-4o-mini', inputPerMTok: 9, validFrom: '2025-01-10T00:00:00Z' });
    expect(overlap.status).toBe(409);
    expect((overlap.json as { error: { param: string } }).error.param).toBe('validFrom');
    // before the first one, running into it: refused; ending at its start: fine
    expect((await h.http('POST', '/admin/v1/prices', { providerId: 'openai', model: 'gpt-4o-mini', validFrom: '2024-12-01T00:00:00Z' })).status).toBe(409);
    const early = await h.http('POST', '/admin/v1/prices', { providerId: 'openai', model: 'gpt-4o-mini', validFrom: '2024-12-01T00:00:00Z', validTo: '2025-01-01T00:00:00Z' });
    expect(early.status).toBe(201);
    expect(await h.count(`SELECT count(*) AS n FROM billing.prices WHERE provider_id = 'openai'`)).toBe(3);
    // close the early one sooner; moving an end past the next start is refused
    const earlyId = (early.json as PriceJson).id;
    const closed = await h.http('PATCH', `/admin/v1/prices/${earlyId}`, { validTo: '2024-12-15T00:00:00Z' });
    expect(closed.status).toBe(200);
    expect((closed.json as PriceJson).validTo).toBe('2024-12-15T00:00:00.000Z');
    expect((await h.http('PATCH', `/admin/v1/prices/${earlyId}`, { validTo: '2025-01-02T00:00:00Z' })).status).toBe(409);
    expect((await h.http('PATCH', `/admin/v1/prices/${earlyId}`, { validTo: '2024-11-01T00:00:00Z' })).status).toBe(400);
    expect((await h.http('PATCH', `/admin/v1/prices/${earlyId}`, { inputPerMTok: 1, validTo: '2024-12-14T00:00:00Z' })).status).toBe(400);
    expect((await h.http('PATCH', '/admin/v1/prices/987654', { validTo: '2024-12-14T00:00:00Z' })).status).toBe(404);
    expect((await h.http('PATCH', '/admin/v1/prices/abc', { validTo: '2024-12-14T00:00:00Z' })).status).toBe(404);
    // and the database refuses a change of amounts even when asked directly
    await expect(h.db.query(`UPDATE billing.prices SET input_nano_per_mtok = 1 WHERE id = $1`, [earlyId])).rejects.toThrow(/only valid_to may change/);
    await expect(h.db.query(`DELETE FROM billing.prices WHERE id = $1`, [earlyId])).rejects.toThrow(/never delete/);
  });

  it('bad input is a 400 naming the field; only the master key or an admin key may write', async () => {
    for (const body of [
      { providerId: 'x', model: 'y', inputPerMTok: -1 },
      { providerId: 'x', model: 'y', inputPerMTok: '0.1234567891' },
      { providerId: 'x', model: 'y', colour: 'red' },
      { model: 'y' },
      { providerId: 'x', model: 'y', validFrom: 'yesterday' },
      { providerId: 'x', model: 'y', validFrom: '2025-01-02T00:00:00Z', validTo: '2025-01-01T00:00:00Z' },
    ]) {
      const r = await h.http('POST', '/admin/v1/prices', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.json as { error: { type: string; message: string } }).error.type).toBe('invalid_request_error');
    }
    expect((await h.http('POST', '/admin/v1/prices', '{"providerId":', h.master)).status).toBe(400);
    expect((await h.http('GET', '/admin/v1/prices', undefined, null)).status).toBe(401);
    expect((await h.http('GET', '/admin/v1/prices', undefined, `fin-${h.suffix}`)).status).toBe(403);
    expect((await h.http('GET', '/admin/v1/prices', undefined, `mem-${h.suffix}`)).status).toBe(403);
    expect((await h.http('GET', '/admin/v1/prices', undefined, `adm-${h.suffix}`)).status).toBe(200);
    expect(await h.count(`SELECT count(*) AS n FROM billing.prices WHERE provider_id = 'x'`)).toBe(0);
  });
});

describe('ingestion into the ledger', () => {
  const T1 = Date.parse('2025-02-10T10:00:00Z');
  const T2 = Date.parse('2025-02-20T10:00:00Z');
  const tokens = { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 500 };
  const cost1 = costNanoUsd(P1, tokens);
  const cost2 = costNanoUsd(P2, tokens);
  const saving = costNanoUsd(P1, { inputTokens: 1000, outputTokens: 500 });
  const routing = { strategy: 'fallback', attempts: [{ providerId: 'a', model: 'm', outcome: 'failed' as const, error: 'PROVIDER_TIMEOUT', latencyMs: 30 }] };

  it('costs come from the price valid at occurredAt (else the event), cache hits cost 0 and record their saving', async () => {
    const id = (n: string) => `led-${h.suffix}-${n}`;
    const events = [
      usageEvent(id('p1'), { occurredAt: T1, ...tokens, costNanoUsd: '1' }),
      usageEvent(id('p2'), { occurredAt: T2, ...tokens, costNanoUsd: '1' }),
      usageEvent(id('noprice'), { occurredAt: T1, providerId: 'other', model: 'other-model', costNanoUsd: '777' }),
      usageEvent(id('hit'), { occurredAt: T1, providerId: null, cacheStatus: 'hit', inputTokens: 1000, outputTokens: 500, costNanoUsd: '0' }),
      usageEvent(id('cut'), { occurredAt: T1, stream: true, usageEstimated: true, status: 'cancelled', inputTokens: 40, outputTokens: 3, costNanoUsd: '1' }),
      usageEvent(id('batch'), { occurredAt: T1, mode: 'batch', routing, keyId: 'key-2', teamId: 'team-2', tags: { project: 'apollo' } }),
      usageEvent(id('nokey'), { occurredAt: T1, keyId: null, teamId: 'team-2', providerId: 'other', model: 'other-model', costNanoUsd: '5' }),
    ];
    const dupes = events.slice(0, 3).map((e) => ({ payload: e, msgID: `${e.requestId}#again` }));
    await h.publish([...events.map((e) => ({ payload: e, msgID: e.requestId })), ...dupes]);
    await h.waitFor('7 records', async () => (await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`, [`led-${h.suffix}-%`])) === 7);
    await h.drained();

    const rows = await h.db.query<{ request_id: string; cost: string; saving: string; priced: boolean; mode: string; routing: unknown; usage_estimated: boolean }>(
      `SELECT request_id, cost_nano_usd::text AS cost, saving_nano_usd::text AS saving, price_id IS NOT NULL AS priced, mode, routing, usage_estimated
         FROM billing.usage_records WHERE request_id LIKE $1`,
      [`led-${h.suffix}-%`],
    );
    const by = new Map(rows.rows.map((r) => [r.request_id.slice(`led-${h.suffix}-`.length), r]));
    expect(by.get('p1')).toMatchObject({ cost: cost1.toString(), saving: '0', priced: true });
    expect(by.get('p2')).toMatchObject({ cost: cost2.toString(), priced: true });
    expect(cost1).not.toBe(cost2);
    expect(by.get('noprice')).toMatchObject({ cost: '777', priced: false });
    expect(by.get('hit')).toMatchObject({ cost: '0', saving: saving.toString(), priced: true });
    expect(by.get('cut')).toMatchObject({ cost: costNanoUsd(P1, { inputTokens: 40, outputTokens: 3 }).toString(), usage_estimated: true });
    expect(by.get('batch')).toMatchObject({ mode: 'batch', routing });

    // one balanced transaction per record; balances are the sums of the entries
    expect(await ledgerInvariants(h.db)).toMatchObject({ unbalanced: 0, badBalances: 0, recordsWithoutTx: 0 });
    const bal = async (account: string) => (await h.db.query<{ b: string }>(`SELECT balance_nano_usd::text AS b FROM billing.balances WHERE account_id = $1`, [account])).rows[0]?.b;
    const key1 = [by.get('p1')!, by.get('p2')!, by.get('noprice')!, by.get('hit')!, by.get('cut')!].reduce((n, r) => n + BigInt(r.cost), 0n);
    expect(await bal('key:key-1')).toBe(key1.toString());
    expect(await bal('team:team-2')).toBe('5');
    expect(await bal('provider:other')).toBe('-782');
    const acc = await h.db.query(`SELECT id, kind, ref, team_id FROM billing.accounts WHERE id IN ('key:key-2', 'provider:none') ORDER BY id`);
    expect(acc.rows).toEqual([
      { id: 'key:key-2', kind: 'key', ref: 'key-2', team_id: 'team-2' },
      { id: 'provider:none', kind: 'provider', ref: 'none', team_id: null },
    ]);
  });

  it('the ledger refuses unbalanced, late, edited, deleted or dangling entries, a transaction without entries, and losing an account', async () => {
    const tx = (await h.db.query<{ id: string }>(`SELECT id::text FROM billing.ledger_transactions LIMIT 1`)).rows[0]!.id;
    const rec = (await h.db.query<{ id: string }>(`SELECT id::text FROM billing.usage_records LIMIT 1`)).rows[0]!.id;
    await expect(h.db.query(`INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd) VALUES ($1, 'key:key-1', 5), ($1, 'provider:other', -4)`, [tx])).rejects.toThrow(/does not sum to zero/);
    await expect(h.db.query(`INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd) VALUES ($1, 'key:key-1', 5), ($1, 'provider:other', -5)`, [tx])).rejects.toThrow(/already had entries/);
    await expect(h.db.query(`UPDATE billing.ledger_entries SET amount_nano_usd = amount_nano_usd + 1 WHERE transaction_id = $1`, [tx])).rejects.toThrow(/append-only/);
    await expect(h.db.query(`DELETE FROM billing.ledger_entries WHERE transaction_id = $1`, [tx])).rejects.toThrow(/append-only/);
    await expect(h.db.query(`DELETE FROM billing.ledger_transactions WHERE id = $1`, [tx])).rejects.toThrow(/append-only/);
    await expect(h.db.query(`TRUNCATE billing.ledger_entries CASCADE`)).rejects.toThrow(/append-only/);
    // the entries' transaction and account are checked per statement (migration 0004, no row-by-row foreign keys)
    await expect(h.db.query(`INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd) VALUES (-1, 'key:key-1', 5), (-1, 'provider:other', -5)`)).rejects.toThrow(
      /transaction -1 that does not exist/,
    );
    await expect(h.db.query(`INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd) VALUES ($1, 'key:nobody', 5), ($1, 'provider:other', -5)`, [tx])).rejects.toThrow(
      /account key:nobody that does not exist/,
    );
    // and those cannot go away under the entries: transactions are append-only (above), accounts permanent
    await expect(h.db.query(`DELETE FROM billing.accounts WHERE id = 'key:key-1'`)).rejects.toThrow(/permanent/);
    await expect(h.db.query(`UPDATE billing.accounts SET id = 'key:renamed' WHERE id = 'key:key-1'`)).rejects.toThrow(/permanent/);
    await expect(h.db.query(`TRUNCATE billing.accounts CASCADE`)).rejects.toThrow(/permanent/);
    await h.db.query(`UPDATE billing.accounts SET team_id = team_id WHERE id = 'key:key-1'`); // other columns may change
    const c = await h.db.connect();
    try {
      await c.query('BEGIN');
      await c.query(`INSERT INTO billing.usage_records (request_id, occurred_at, requested_model, input_tokens, output_tokens, cost_nano_usd, latency_ms, cache_status, status)
                     VALUES ($1, now(), 'm', 0, 0, 0, 0, 'miss', 'ok')`, [`lonely-${h.suffix}`]);
      await expect(
        c.query(`INSERT INTO billing.ledger_transactions (usage_record_id, request_id, occurred_at) SELECT id, request_id, occurred_at FROM billing.usage_records WHERE request_id = $1`, [
          `lonely-${h.suffix}`,
        ]),
      ).rejects.toThrow(/fewer than two entries/);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    expect(await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id = $1`, [`lonely-${h.suffix}`])).toBe(0);
    expect(rec).toBeTruthy();
  });
});

describe('finance views over the ledger', () => {
  it('chargeback: per team, per provider + model, equal to the ledger; tag grouping and filters', async () => {
    const r = await h.http('GET', '/billing/v1/chargeback?month=2025-02', undefined, `fin-${h.suffix}`);
    expect(r.status).toBe(200);
    const cb = r.json as { month: string; totalCostUsd: string; teams: Array<{ teamId: string; teamName: string; costUsd: string; ledgerCostUsd: string; savingUsd: string; lines: Array<{ providerId: string | null; model: string }> }> };
    expect(cb.month).toBe('2025-02');
    expect(cb.teams.map((t) => t.teamId).sort()).toEqual(['team-1', 'team-2']);
    for (const t of cb.teams) expect(t.ledgerCostUsd, t.teamId).toBe(t.costUsd);
    const t1 = cb.teams.find((t) => t.teamId === 'team-1')!;
    expect(t1.teamName).toBe('Team One');
    expect(t1.lines.some((l) => l.providerId === 'openai' && l.model === 'gpt-4o-mini')).toBe(true);
    expect(t1.savingUsd).not.toBe('0.000000000');
    expect((await h.http('GET', '/billing/v1/chargeback?month=2025-13')).status).toBe(400);
    expect((await h.http('GET', '/billing/v1/chargeback')).status).toBe(400);
    expect((await h.http('GET', '/billing/v1/chargeback?month=2025-02', undefined, `mem-${h.suffix}`)).status).toBe(403);

    const spend = async (q: string) => ((await h.http('GET', `/billing/v1/spend?from=2025-02-01&to=2025-03-01&${q}`)).json as { data: Array<{ group: string | null; requests: number }> }).data;
    expect((await spend('groupBy=tag')).find((g) => g.group === 'project=apollo')?.requests).toBe(1);
    expect((await spend('groupBy=team&tag=project=apollo')).map((g) => [g.group, g.requests])).toEqual([['team-2', 1]]);
    expect((await spend('groupBy=team&tag=project')).map((g) => g.group)).toEqual(['team-2']);
    expect((await spend('groupBy=key&provider=other')).map((g) => g.group).sort()).toEqual([null, 'key-1'].sort());
    expect((await spend('groupBy=provider&keyId=key-1&model=gpt-4o-mini')).map((g) => [g.group, g.requests])).toEqual([['openai', 3], [null, 1]]);
  });

  it('a record landing in a rolled-up day makes it stale until the next daily rollup', async () => {
    const rpc = h.app().get(RollupRpc);
    const first = await rpc.rollupDays({});
    expect(first.days.map((d) => d.day)).toEqual(expect.arrayContaining(['2025-02-10', '2025-02-20']));
    expect((await rpc.rollupDays({})).days).toEqual([]);
    await h.publish([{ payload: usageEvent(`late-${h.suffix}`, { occurredAt: Date.parse('2025-02-20T23:00:00Z') }), msgID: `late-${h.suffix}` }]);
    await h.waitFor('the late record', async () => (await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id = $1`, [`late-${h.suffix}`])) === 1);
    expect(await h.count(`SELECT count(*) AS n FROM billing.spend_daily_state WHERE day = '2025-02-20'`)).toBe(0);
    const raw = ((await h.http('GET', '/billing/v1/spend?groupBy=day&from=2025-02-20&to=2025-02-21')).json as { data: Array<{ requests: number }> }).data[0]!.requests;
    expect((await rpc.rollupDays({})).days.map((d) => d.day)).toEqual(['2025-02-20']);
    const rolled = ((await h.http('GET', '/billing/v1/spend?groupBy=day&from=2025-02-20&to=2025-02-21')).json as { data: Array<{ requests: number }> }).data[0]!.requests;
    expect(rolled).toBe(raw);
  });
});

describe('reconciliation', () => {
  it('finds every invariant intact, then reports each deliberately broken one (log, metric, run row)', async () => {
    const reconcile = h.app().get(ReconcileService);
    const good = await reconcile.run();
    expect(good.ok).toBe(true);
    expect(good.checks.map((c) => c.breaks)).toEqual([0, 0, 0, 0]);

    // break each invariant behind the triggers' back (replication role skips them), as a bug or a hand edit could
    const c = await h.db.connect();
    try {
      await c.query(`SET session_replication_role = replica`);
      const tx = (await c.query<{ id: string }>(`SELECT id::text FROM billing.ledger_transactions ORDER BY id LIMIT 1`)).rows[0]!.id;
      await c.query(`INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd) VALUES ($1, 'key:key-1', 1)`, [tx]);
      await c.query(`UPDATE billing.balances SET balance_nano_usd = balance_nano_usd + 3 WHERE account_id = 'provider:other'`);
      await c.query(`INSERT INTO billing.usage_records (request_id, occurred_at, requested_model, input_tokens, output_tokens, cost_nano_usd, latency_ms, cache_status, status)
                     VALUES ($1, '2025-03-03T00:00:00Z', 'm', 0, 0, 9, 0, 'miss', 'ok')`, [`orphan-${h.suffix}`]);
      await c.query(`UPDATE billing.spend_daily SET cost_nano_usd = cost_nano_usd + 1 WHERE day = '2025-02-10' AND key_id = 'key-2'`);
      await c.query(`SET session_replication_role = origin`);
    } finally {
      c.release();
    }
    const bad = await reconcile.run();
    expect(bad.ok).toBe(false);
    const breaks = Object.fromEntries(bad.checks.map((x) => [x.check, x.breaks]));
    // the extra +1 entry unbalances its transaction, key-1's balance and its usage record's charge
    expect(breaks).toEqual({ entries_sum_to_zero: 1, balances_equal_entries: 2, one_transaction_per_usage_record: 2, rollups_equal_raw: 1 });
    expect(bad.checks.find((x) => x.check === 'one_transaction_per_usage_record')!.sample.join(' ')).toContain(`orphan-${h.suffix}`);
    const runs = await h.db.query<{ ok: boolean; breaks: number }>(`SELECT ok, breaks FROM billing.reconciliation_runs ORDER BY id`);
    expect(runs.rows).toEqual([
      { ok: true, breaks: 0 },
      { ok: false, breaks: 6 },
    ]);
    const metrics = await h.http('GET', '/metrics', undefined, null);
    expect(metrics.text).toContain('gw_billing_reconciliation_breaks{check="rollups_equal_raw"} 1');
    expect(metrics.text).toContain('gw_billing_reconciliation_runs_total{result="broken"} 1');
  });
});

describe('known accounts (the ingest inserts an account once)', () => {
  it('skips accounts it saw committed; one missing behind its back fails the batch once, and the retry re-creates it', async () => {
    const repo = h.app().get(UsageRepository);
    const key = `key-known-${h.suffix}`;
    const row = (n: number) => toUsageRow(UsageEvent.parse(usageEvent(`known-${n}-${h.suffix}`, { keyId: key, teamId: 'team-1' })));
    expect(await repo.insertBatch([row(1)])).toEqual({ inserted: 1 });
    // the account disappears behind the triggers' back (replication role), as a restored database could have it
    const c = await h.db.connect();
    try {
      await c.query(`SET session_replication_role = replica`);
      await c.query(`DELETE FROM billing.accounts WHERE id = $1`, [`key:${key}`]);
      await c.query(`SET session_replication_role = origin`);
    } finally {
      c.release();
    }
    // known, so not inserted again: the entries' check refuses the batch and nothing of it is stored
    await expect(repo.insertBatch([row(2)])).rejects.toThrow(`account key:${key} that does not exist`);
    expect(await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id = $1`, [`known-2-${h.suffix}`])).toBe(0);
    // the redelivery inserts every account again
    expect(await repo.insertBatch([row(2)])).toEqual({ inserted: 1 });
    expect(await h.count(`SELECT count(*) AS n FROM billing.accounts WHERE id = $1`, [`key:${key}`])).toBe(1);
    expect(await h.count(`SELECT count(*) AS n FROM billing.ledger_entries WHERE account_id = $1`, [`key:${key}`])).toBe(2);
  });
});
