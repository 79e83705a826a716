import { costNanoUsd, GatewayConfig } from '@gw/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, ledgerInvariants, usageEvent, type BillingHarness } from './testing/harness.js';

/**
 * Per-image prices, end to end inside billing (real Postgres, real JetStream): the config's perImage is seeded into
 * billing.prices, an event's inputImages are stored and charged at the price valid at occurredAt (the same rule as
 * costNanoUsd), cache hits save them, errors pay neither request nor images, and the ledger stays balanced.
 */
let h: BillingHarness;
const PRICE = { inputPerMTok: 1, outputPerMTok: 2, perRequest: 0.0001, perImage: 0.002 };
const ADMIN = { inputPerMTok: 0.5, outputPerMTok: 1, perImage: 0.000000007 };
const config = GatewayConfig.parse({
  providers: [{ id: 'vis', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1' }],
  models: [{ name: 'vision', targets: [{ provider: 'vis', model: 'vision-up', price: PRICE }] }],
});
// after boot: the config price is seeded valid from then
let T = 0;
const window = () => `from=${new Date(T - 60_000).toISOString()}&to=${new Date(T + 60_000).toISOString()}`;
const tokens = { inputTokens: 1000, outputTokens: 500 };

beforeAll(async () => {
  h = await billingHarness({ name: 'images', gatewayConfig: config, env: process.env });
  await h.start();
  T = Date.now() + 1_000;
});
afterAll(async () => h?.close());

describe('per-image prices', () => {
  it('the config perImage is seeded as per_image_nano', async () => {
    const rows = await h.db.query(`SELECT model, per_image_nano::text AS img FROM billing.prices WHERE provider_id = 'vis'`);
    expect(rows.rows).toEqual([{ model: 'vision-up', img: '2000000' }]);
  });

  it('an event with images is charged tokens + request + images, a hit saves them, an error pays none, balanced', async () => {
    // an admin price (another upstream model) with its own perImage, in force before the events
    const admin = await h.http('POST', '/admin/v1/prices', { providerId: 'vis', model: 'vision-admin', ...ADMIN, validFrom: '2025-01-01T00:00:00Z' });
    expect(admin.status).toBe(201);
    expect((admin.json as { perImage: string }).perImage).toBe('0.000000007');

    const id = (n: string) => `img-${h.suffix}-${n}`;
    const on = { occurredAt: T, providerId: 'vis', model: 'vision-up', requestedModel: 'vision', costNanoUsd: '1' };
    const events = [
      usageEvent(id('three'), { ...on, ...tokens, inputImages: 3 }),
      usageEvent(id('none'), { ...on, ...tokens, inputImages: 0 }),
      usageEvent(id('hit'), { ...on, providerId: null, cacheStatus: 'hit', ...tokens, inputImages: 2, costNanoUsd: '0' }),
      usageEvent(id('error'), { ...on, status: 'error', errorCode: 'PROVIDER_ERROR', inputTokens: 0, outputTokens: 0, inputImages: 4, costNanoUsd: '0' }),
      usageEvent(id('admin'), { ...on, model: 'vision-admin', ...tokens, inputImages: 5 }),
    ];
    // an event published before inputImages existed (no such field): it still parses, with no images
    const { inputImages: _, ...old } = usageEvent(id('old'), { ...on, ...tokens, inputImages: 9 });
    await h.publish([...events, old].map((e) => ({ payload: e, msgID: e.requestId })));
    await h.waitFor('6 records', async () => (await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`, [`img-${h.suffix}-%`])) === 6);
    await h.drained();

    const rows = await h.db.query<{ request_id: string; images: number; cost: string; saving: string; priced: boolean }>(
      `SELECT request_id, input_images AS images, cost_nano_usd::text AS cost, saving_nano_usd::text AS saving, price_id IS NOT NULL AS priced
         FROM billing.usage_records WHERE request_id LIKE $1`,
      [`img-${h.suffix}-%`],
    );
    const by = new Map(rows.rows.map((r) => [r.request_id.slice(`img-${h.suffix}-`.length), r]));
    const withImages = (n: number) => costNanoUsd(PRICE, { ...tokens, inputImages: n });
    // 1000 × 1000 + 500 × 2000 + 100_000 (request) + 3 × 2_000_000 (images)
    expect(withImages(3)).toBe(1_000_000n + 1_000_000n + 100_000n + 6_000_000n);
    expect(by.get('three')).toMatchObject({ images: 3, cost: withImages(3).toString(), saving: '0', priced: true });
    expect(by.get('none')).toMatchObject({ images: 0, cost: withImages(0).toString(), priced: true });
    expect(by.get('old')).toMatchObject({ images: 0, cost: withImages(0).toString() });
    expect(by.get('hit')).toMatchObject({ images: 2, cost: '0', saving: withImages(2).toString(), priced: true });
    expect(by.get('error')).toMatchObject({ images: 4, cost: '0', priced: true });
    expect(by.get('admin')).toMatchObject({ images: 5, cost: costNanoUsd(ADMIN, { ...tokens, inputImages: 5 }).toString(), priced: true });
    expect(by.get('admin')!.cost).toBe((500_000n + 500_000n + 35n).toString());

    // one balanced transaction per record, each charging the record's cost; the key pays what the provider is owed
    expect(await ledgerInvariants(h.db)).toMatchObject({ unbalanced: 0, badBalances: 0, recordsWithoutTx: 0, txCount: 6, records: 6 });
    const legs = await h.db.query<{ request_id: string; debit: string; credit: string }>(
      `SELECT t.request_id, max(e.amount_nano_usd)::text AS debit, min(e.amount_nano_usd)::text AS credit
         FROM billing.ledger_transactions t JOIN billing.ledger_entries e ON e.transaction_id = t.id GROUP BY t.request_id`,
    );
    for (const l of legs.rows) {
      const cost = by.get(l.request_id.slice(`img-${h.suffix}-`.length))!.cost;
      expect([l.debit, l.credit]).toEqual([cost, cost === '0' ? '0' : `-${cost}`]);
    }
    const total = rows.rows.reduce((n, r) => n + BigInt(r.cost), 0n);
    const bal = async (account: string) => (await h.db.query<{ b: string }>(`SELECT balance_nano_usd::text AS b FROM billing.balances WHERE account_id = $1`, [account])).rows[0]?.b;
    expect(await bal('key:key-1')).toBe(total.toString());
    expect(await bal('provider:vis')).toBe((-total).toString());

    // the finance API: spend includes the images, a usage record says how many
    const spend = await h.http('GET', `/billing/v1/spend?groupBy=key&${window()}`);
    expect((spend.json as { data: Array<{ group: string; costNanoUsd: string }> }).data).toMatchObject([{ group: 'key-1', costNanoUsd: total.toString() }]);
    const usage = await h.http('GET', `/billing/v1/usage?${window()}&limit=10`);
    const three = (usage.json as { data: Array<{ requestId: string; inputImages: number; costNanoUsd: string }> }).data.find((u) => u.requestId === id('three'));
    expect(three).toMatchObject({ inputImages: 3, costNanoUsd: withImages(3).toString() });
  });

  it('a negative or fractional image count is refused by the schema and settled, never stored', async () => {
    const id = `img-${h.suffix}-bad`;
    await h.publish([{ payload: usageEvent(id, { occurredAt: T, inputImages: -1 }), msgID: id }, { payload: usageEvent(`${id}2`, { occurredAt: T, inputImages: 1.5 }), msgID: `${id}2` }]);
    await h.drained();
    expect(await h.count(`SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`, [`${id}%`])).toBe(0);
  });
});
