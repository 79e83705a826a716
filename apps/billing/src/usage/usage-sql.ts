import type { UsageEvent } from '@gw/contracts';

const INT4_MAX = 2_147_483_647;
const INT8_MAX = 9_223_372_036_854_775_807n;

/** One usage_records row, in column order, as the values pg sends. */
export type UsageRow = {
  requestId: string;
  occurredAt: string;
  orgId: string | null;
  teamId: string | null;
  keyId: string | null;
  endUser: string | null;
  requestedModel: string;
  providerId: string | null;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  inputImages: number;
  costNanoUsd: string;
  latencyMs: number;
  cacheStatus: string;
  status: string;
  errorCode: string | null;
  usageEstimated: boolean;
  stream: boolean;
  tags: string;
  attempts: number;
  mode: string;
  /** the routing story as JSON text, or null */
  routing: string | null;
  /** the ledger account charged: key:<id>, else team:<id>, else system:unattributed */
  debitAccount: string;
  /** the ledger account owed: provider:<id>, or provider:none (no upstream call) */
  creditAccount: string;
};

/** Columns and their Postgres array types, in the order of UsageRow. */
const COLUMNS: Array<[keyof UsageRow, string, string]> = [
  ['requestId', 'request_id', 'text'],
  ['occurredAt', 'occurred_at', 'timestamptz'],
  ['orgId', 'org_id', 'text'],
  ['teamId', 'team_id', 'text'],
  ['keyId', 'key_id', 'text'],
  ['endUser', 'end_user', 'text'],
  ['requestedModel', 'requested_model', 'text'],
  ['providerId', 'provider_id', 'text'],
  ['model', 'model', 'text'],
  ['inputTokens', 'input_tokens', 'int4'],
  ['outputTokens', 'output_tokens', 'int4'],
  ['cachedInputTokens', 'cached_input_tokens', 'int4'],
  ['inputImages', 'input_images', 'int4'],
  ['costNanoUsd', 'cost_nano_usd', 'int8'],
  ['latencyMs', 'latency_ms', 'int4'],
  ['cacheStatus', 'cache_status', 'text'],
  ['status', 'status', 'text'],
  ['errorCode', 'error_code', 'text'],
  ['usageEstimated', 'usage_estimated', 'bool'],
  ['stream', 'stream', 'bool'],
  ['tags', 'tags', 'jsonb'],
  ['attempts', 'attempts', 'int4'],
  ['mode', 'mode', 'text'],
  ['routing', 'routing', 'jsonb'],
  ['debitAccount', 'debit_account', 'text'],
  ['creditAccount', 'credit_account', 'text'],
];

/** The ledger accounts of a batch, with their kind, reference and team (for the upsert that precedes the entries). */
export type AccountRow = { id: string; kind: 'team' | 'key' | 'provider' | 'system'; ref: string; teamId: string | null };

export function debitAccountOf(e: Pick<UsageEvent, 'keyId' | 'teamId'>): AccountRow {
  if (e.keyId !== null) return { id: `key:${e.keyId}`, kind: 'key', ref: e.keyId, teamId: e.teamId };
  if (e.teamId !== null) return { id: `team:${e.teamId}`, kind: 'team', ref: e.teamId, teamId: e.teamId };
  return { id: 'system:unattributed', kind: 'system', ref: 'unattributed', teamId: null };
}

export function creditAccountOf(e: Pick<UsageEvent, 'providerId'>): AccountRow {
  const ref = e.providerId ?? 'none';
  return { id: `provider:${ref}`, kind: 'provider', ref, teamId: null };
}

/** A usage event that parses but cannot be stored (out of the column's range): it would fail every retry. */
export class UnstorableUsageError extends Error {
  constructor(requestId: string, why: string) {
    super(`usage event ${requestId}: ${why}`);
    this.name = 'UnstorableUsageError';
  }
}

function int4(requestId: string, field: string, n: number): number {
  const v = Math.round(n);
  if (!Number.isFinite(v) || v < 0 || v > INT4_MAX) throw new UnstorableUsageError(requestId, `${field} out of range (${n})`);
  return v;
}

/** Maps a validated event to its row; throws UnstorableUsageError for values the table cannot hold. */
export function toUsageRow(e: UsageEvent): UsageRow {
  const id = e.requestId;
  if (id.length === 0 || id.length > 512) throw new UnstorableUsageError(id.slice(0, 64), 'request id is empty or too long');
  const at = new Date(e.occurredAt);
  if (!Number.isFinite(at.getTime())) throw new UnstorableUsageError(id, `occurredAt is not a time (${e.occurredAt})`);
  const cost = BigInt(e.costNanoUsd);
  if (cost > INT8_MAX) throw new UnstorableUsageError(id, 'costNanoUsd out of range');
  return {
    requestId: id,
    occurredAt: at.toISOString(),
    orgId: e.orgId,
    teamId: e.teamId,
    keyId: e.keyId,
    endUser: e.endUser,
    requestedModel: e.requestedModel,
    providerId: e.providerId,
    model: e.model,
    inputTokens: int4(id, 'inputTokens', e.inputTokens),
    outputTokens: int4(id, 'outputTokens', e.outputTokens),
    cachedInputTokens: int4(id, 'cachedInputTokens', e.cachedInputTokens),
    inputImages: int4(id, 'inputImages', e.inputImages),
    costNanoUsd: cost.toString(),
    latencyMs: int4(id, 'latencyMs', e.latencyMs),
    cacheStatus: e.cacheStatus,
    status: e.status,
    errorCode: e.errorCode,
    usageEstimated: e.usageEstimated,
    stream: e.stream,
    tags: JSON.stringify(e.tags),
    attempts: int4(id, 'attempts', e.attempts),
    mode: e.mode,
    routing: e.routing === null ? null : JSON.stringify(e.routing),
    debitAccount: debitAccountOf(e).id,
    creditAccount: creditAccountOf(e).id,
  };
}

/** Usage columns of the table, in COLUMNS order (the last two COLUMNS only feed the ledger). */
const USAGE_COLUMNS = COLUMNS.slice(0, COLUMNS.length - 2).map(([, col]) => col);

/**
 * Cost of a record at the list price `p`: money.ts costNanoUsd in SQL (nano-USD per MTok, rounded half up per part;
 * per request and per input image exact), except that an error pays neither its request nor its images.
 */
const LIST_COST = `
      div(p.input_nano_per_mtok::numeric * (i.input_tokens - least(i.cached_input_tokens, i.input_tokens)) + 500000, 1000000)
    + div(coalesce(p.cached_input_nano_per_mtok, p.input_nano_per_mtok)::numeric * least(i.cached_input_tokens, i.input_tokens) + 500000, 1000000)
    + div(p.output_nano_per_mtok::numeric * i.output_tokens + 500000, 1000000)
    + CASE WHEN i.status = 'error' THEN 0 ELSE p.per_request_nano + p.per_image_nano::numeric * i.input_images END`;

/**
 * One statement for a whole batch: each column travels as one array parameter and `unnest` zips them back into rows
 * (26 parameters whatever the batch size). In order, inside the one statement:
 *  - the price valid at occurred_at for the provider + model (a cache hit, which has no provider, takes the model's
 *    price of any provider, the first by provider id) gives the cost; without one the event's cost (from config) stays;
 *    a cache hit costs 0 and records as saving what it would have cost;
 *  - the usage row, skipped by ON CONFLICT when its request id is stored already (redelivery, duplicate publish);
 *  - for each NEW row only: one ledger transaction and its two entries (+cost on the debit account, -cost on the
 *    provider), and the balances of the touched accounts;
 *  - the daily-rollup state of the days that got new rows is dropped (those days are read raw until rolled up again).
 * Rows go in request-id order and balances in account-id order: concurrent batches lock in one order.
 */
export function buildInsertBatch(rows: readonly UsageRow[]): { text: string; values: unknown[] } {
  const unique = new Map<string, UsageRow>();
  for (const r of rows) if (!unique.has(r.requestId)) unique.set(r.requestId, r);
  // in request-id order: two batches in flight at once (USAGE_CONCURRENCY) that share a request id (a redelivery, a
  // late duplicate) take its unique-index lock in the same order, so one waits for the other instead of deadlocking
  const list = [...unique.values()].sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0));
  const values = COLUMNS.map(([key]) => list.map((r) => r[key]));
  const cols = COLUMNS.map(([, col]) => col);
  const usageCols = USAGE_COLUMNS.filter((c) => c !== 'cost_nano_usd');
  const text = `WITH input AS (
  SELECT * FROM unnest(${COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')}) AS i(${cols.join(', ')})
), priced AS (
  SELECT i.*, p.id AS price_id, CASE WHEN p.id IS NULL THEN NULL ELSE ${LIST_COST} END AS list_cost
    FROM input i
    LEFT JOIN LATERAL (
      SELECT p.* FROM billing.prices p
       WHERE p.model = coalesce(i.model, i.requested_model)
         AND (p.provider_id = i.provider_id OR (i.provider_id IS NULL AND i.cache_status = 'hit'))
         AND p.valid_from <= i.occurred_at AND (p.valid_to IS NULL OR p.valid_to > i.occurred_at)
       ORDER BY p.provider_id LIMIT 1
    ) p ON true
), ins AS (
  INSERT INTO billing.usage_records (${usageCols.join(', ')}, cost_nano_usd, saving_nano_usd, price_id)
  SELECT ${usageCols.join(', ')},
         CASE WHEN cache_status = 'hit' THEN 0 ELSE coalesce(list_cost, cost_nano_usd) END,
         CASE WHEN cache_status = 'hit' THEN coalesce(list_cost, cost_nano_usd) ELSE 0 END,
         price_id
    FROM priced
  ON CONFLICT (request_id) DO NOTHING
  RETURNING id, request_id, occurred_at, cost_nano_usd
), tx AS (
  INSERT INTO billing.ledger_transactions (usage_record_id, request_id, occurred_at)
  SELECT id, request_id, occurred_at FROM ins
  RETURNING id, request_id
), legs AS (
  SELECT tx.id AS transaction_id, i.debit_account, i.credit_account, ins.cost_nano_usd AS amount
    FROM tx JOIN ins ON ins.request_id = tx.request_id JOIN input i ON i.request_id = tx.request_id
), ent AS (
  INSERT INTO billing.ledger_entries (transaction_id, account_id, amount_nano_usd)
  SELECT transaction_id, debit_account, amount FROM legs
  UNION ALL
  SELECT transaction_id, credit_account, -amount FROM legs
  RETURNING account_id, amount_nano_usd
), bal AS (
  INSERT INTO billing.balances AS b (account_id, balance_nano_usd, entries, updated_at)
  SELECT account_id, sum(amount_nano_usd), count(*), now() FROM ent GROUP BY account_id ORDER BY account_id
  ON CONFLICT (account_id) DO UPDATE
    SET balance_nano_usd = b.balance_nano_usd + excluded.balance_nano_usd, entries = b.entries + excluded.entries, updated_at = excluded.updated_at
  RETURNING 1
), stale AS (
  DELETE FROM billing.spend_daily_state WHERE day IN (SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM ins)
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM bal)::int AS balances, (SELECT count(*) FROM stale)::int AS stale_days`;
  return { text, values };
}

/** The accounts a batch posts to (deduplicated, sorted so that concurrent batches lock them in one order). */
export function batchAccounts(events: ReadonlyArray<Pick<UsageEvent, 'keyId' | 'teamId' | 'providerId'>>): AccountRow[] {
  const byId = new Map<string, AccountRow>();
  for (const e of events) {
    for (const a of [debitAccountOf(e), creditAccountOf(e)]) if (!byId.has(a.id)) byId.set(a.id, a);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** UTC days (days since the epoch) of a batch, sorted: the ingest holds a shared lock on each while it writes. */
export function batchDays(rows: readonly UsageRow[]): number[] {
  return [...new Set(rows.map((r) => Math.floor(Date.parse(r.occurredAt) / 86_400_000)))].sort((a, b) => a - b);
}
