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
  costNanoUsd: string;
  latencyMs: number;
  cacheStatus: string;
  status: string;
  errorCode: string | null;
  usageEstimated: boolean;
  stream: boolean;
  tags: string;
  attempts: number;
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
  ['costNanoUsd', 'cost_nano_usd', 'int8'],
  ['latencyMs', 'latency_ms', 'int4'],
  ['cacheStatus', 'cache_status', 'text'],
  ['status', 'status', 'text'],
  ['errorCode', 'error_code', 'text'],
  ['usageEstimated', 'usage_estimated', 'bool'],
  ['stream', 'stream', 'bool'],
  ['tags', 'tags', 'jsonb'],
  ['attempts', 'attempts', 'int4'],
];

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
    costNanoUsd: cost.toString(),
    latencyMs: int4(id, 'latencyMs', e.latencyMs),
    cacheStatus: e.cacheStatus,
    status: e.status,
    errorCode: e.errorCode,
    usageEstimated: e.usageEstimated,
    stream: e.stream,
    tags: JSON.stringify(e.tags),
    attempts: int4(id, 'attempts', e.attempts),
  };
}

/**
 * One INSERT for a whole batch: each column travels as one array parameter and `unnest` zips them back into rows,
 * so the statement has 21 parameters whatever the batch size. A request id already stored (or repeated inside the
 * batch) is skipped by ON CONFLICT: redelivery and duplicate publishes never double a record.
 */
export function buildInsertBatch(rows: readonly UsageRow[]): { text: string; values: unknown[] } {
  const unique = new Map<string, UsageRow>();
  for (const r of rows) if (!unique.has(r.requestId)) unique.set(r.requestId, r);
  const list = [...unique.values()];
  const values = COLUMNS.map(([key]) => list.map((r) => r[key]));
  const text =
    `INSERT INTO billing.usage_records (${COLUMNS.map(([, col]) => col).join(', ')})\n` +
    `SELECT * FROM unnest(${COLUMNS.map(([, , type], i) => `$${i + 1}::${type}[]`).join(', ')})\n` +
    `ON CONFLICT (request_id) DO NOTHING`;
  return { text, values };
}
