import { costNanoUsd, type UsageEventInput } from '@gw/contracts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingHarness, ledgerInvariants, usageEvent, type BillingHarness } from './testing/harness.js';

/**
 * Done-when of issue 6: random interleavings of usage events, duplicates (re-published under other message ids, so
 * JetStream's own dedupe does not hide them) and billing restarts (a stop in the middle of consumption) leave the
 * ledger's invariants true and the totals equal to the sum of the unique events. Real Postgres, real JetStream.
 */
let h: BillingHarness;
const PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 };

beforeAll(async () => {
  h = await billingHarness({ name: 'prop', batchSize: 16, env: process.env });
  await h.db.query(
    `INSERT INTO billing.prices (provider_id, model, input_nano_per_mtok, output_nano_per_mtok, cached_input_nano_per_mtok, valid_from, source)
     VALUES ('openai', 'gpt-4o-mini', 150000000, 600000000, 75000000, '2025-01-01', 'admin')`,
  );
  await h.start();
});
afterAll(async () => h?.close());

/** What billing must charge for an event (the price table holds one price for openai/gpt-4o-mini). */
function expectedCost(e: UsageEventInput): bigint {
  if (e.cacheStatus === 'hit') return 0n;
  if (e.providerId === 'openai' && (e.model ?? e.requestedModel) === 'gpt-4o-mini') {
    return costNanoUsd(PRICE, { inputTokens: e.inputTokens, outputTokens: e.outputTokens, cachedInputTokens: e.cachedInputTokens ?? 0 });
  }
  return BigInt(e.costNanoUsd);
}

const eventArb = fc.record({
  keyId: fc.constantFrom('k1', 'k2', 'k3', null),
  providerId: fc.constantFrom('openai', 'anthropic', null),
  cacheStatus: fc.constantFrom('miss', 'miss', 'hit', 'bypass'),
  status: fc.constantFrom('ok', 'ok', 'error', 'cancelled'),
  inputTokens: fc.integer({ min: 0, max: 200_000 }),
  cachedInputTokens: fc.integer({ min: 0, max: 1_000 }),
  outputTokens: fc.integer({ min: 0, max: 50_000 }),
  cost: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  minute: fc.integer({ min: 0, max: 60 * 24 * 3 }),
  copies: fc.integer({ min: 1, max: 3 }),
});

const scenarioArb = fc.record({
  events: fc.array(eventArb, { minLength: 1, maxLength: 60 }),
  order: fc.array(fc.nat(), { minLength: 180, maxLength: 180 }),
  /** after which published message to stop billing, and whether to start it again before publishing on */
  restarts: fc.array(fc.record({ at: fc.nat({ max: 179 }), waitBeforeStop: fc.boolean() }), { maxLength: 3 }),
});

let run = 0;

describe('ledger property', () => {
  it('any interleaving of events, duplicates and restarts: invariants hold, totals = the unique events', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ events, order, restarts }) => {
        run++;
        const prefix = `prop-${h.suffix}-${run}-`;
        const unique: UsageEventInput[] = events.map((a, i) =>
          usageEvent(`${prefix}${i}`, {
            occurredAt: Date.parse('2025-02-01T00:00:00Z') + a.minute * 60_000,
            teamId: a.keyId === null ? null : 'team-p',
            keyId: a.keyId,
            providerId: a.providerId,
            cacheStatus: a.cacheStatus,
            status: a.status,
            inputTokens: a.inputTokens,
            cachedInputTokens: Math.min(a.cachedInputTokens, a.inputTokens),
            outputTokens: a.outputTokens,
            costNanoUsd: a.cost.toString(),
          }),
        );
        // every copy of an event: the first under its request id, the others under fresh message ids
        const messages = unique.flatMap((e, i) => Array.from({ length: events[i]!.copies }, (_, c) => ({ payload: e, msgID: c === 0 ? e.requestId : `${e.requestId}#${c}` })));
        // a random permutation (Fisher-Yates driven by the generated numbers)
        for (let i = messages.length - 1; i > 0; i--) {
          const j = order[i % order.length]! % (i + 1);
          [messages[i], messages[j]] = [messages[j]!, messages[i]!];
        }
        const cuts = [...new Set(restarts.map((r) => r.at % messages.length))].sort((a, b) => a - b);
        let from = 0;
        for (const cut of cuts) {
          await h.publish(messages.slice(from, cut + 1));
          from = cut + 1;
          const r = restarts.find((x) => x.at % messages.length === cut)!;
          if (r.waitBeforeStop) await new Promise((res) => setTimeout(res, 30));
          await h.stop();
          await h.start();
        }
        await h.publish(messages.slice(from));

        const mine = `SELECT count(*) AS n FROM billing.usage_records WHERE request_id LIKE $1`;
        await h.waitFor(`${unique.length} records`, async () => (await h.count(mine, [`${prefix}%`])) === unique.length, 60_000);
        await h.drained();
        expect(await h.count(mine, [`${prefix}%`])).toBe(unique.length);

        const inv = await ledgerInvariants(h.db);
        expect(inv).toMatchObject({ unbalanced: 0, badBalances: 0, recordsWithoutTx: 0 });
        expect(inv.txCount).toBe(inv.records);

        const stored = await h.db.query<{ cost: string; charged: string; n: string }>(
          `SELECT coalesce(sum(u.cost_nano_usd), 0)::text AS cost, coalesce(sum(e.amount_nano_usd), 0)::text AS charged, count(DISTINCT t.id)::text AS n
             FROM billing.usage_records u
             JOIN billing.ledger_transactions t ON t.usage_record_id = u.id
             JOIN billing.ledger_entries e ON e.transaction_id = t.id AND e.amount_nano_usd > 0
            WHERE u.request_id LIKE $1`,
          [`${prefix}%`],
        );
        const total = unique.reduce((n, e) => n + expectedCost(e), 0n);
        expect(BigInt(stored.rows[0]!.cost)).toBe(total);
        expect(BigInt(stored.rows[0]!.charged)).toBe(total);
      }),
      { numRuns: 8, endOnFailure: true },
    );
  }, 300_000);
});
