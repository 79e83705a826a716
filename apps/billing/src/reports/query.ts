import { GatewayError } from '@gw/contracts';
import { z } from 'zod';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 30;
export const MAX_USAGE_LIMIT = 1_000;

export const GROUP_BY = ['team', 'key', 'model', 'provider', 'day', 'tag'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** A time: full ISO 8601 with a zone (2026-11-01T00:00:00Z) or a UTC date (2026-11-01). */
const Time = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) || z.iso.datetime({ offset: true }).safeParse(s).success, {
    message: 'must be an ISO date (2026-11-01) or date-time with a zone (2026-11-01T00:00:00Z)',
  })
  .transform((s) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00.000Z` : s))
  .refine((d) => Number.isFinite(d.getTime()), { message: 'is not a valid time' });

const Id = z.string().min(1).max(200);

const Window = { from: Time.optional(), to: Time.optional() };

/** `key=value` (records carrying that tag) or `key` (records carrying the key with any value) */
const Tag = z
  .string()
  .regex(/^[^=]{1,100}(=.{0,200})?$/, 'must be key=value or key')
  .transform((s): TagFilter => {
    const i = s.indexOf('=');
    return i < 0 ? { key: s, value: null } : { key: s.slice(0, i), value: s.slice(i + 1) };
  });
export type TagFilter = { key: string; value: string | null };

const SpendFilters = { teamId: Id.optional(), keyId: Id.optional(), model: Id.optional(), provider: Id.optional(), tag: Tag.optional() };

const SpendQuerySchema = z.strictObject({
  ...Window,
  groupBy: z.enum(GROUP_BY, { message: `must be one of ${GROUP_BY.join(', ')}` }).default('team'),
  ...SpendFilters,
});

const ChargebackQuerySchema = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM'),
});
const UsageQuerySchema = z.strictObject({
  ...Window,
  teamId: Id.optional(),
  keyId: Id.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_USAGE_LIMIT).default(100),
  cursor: z.string().min(1).max(200).optional(),
});
const ExportQuerySchema = z.strictObject({
  ...Window,
  teamId: Id.optional(),
  keyId: Id.optional(),
  format: z.literal('csv', { message: 'must be csv' }).default('csv'),
});

export type TimeWindow = { from: Date; to: Date };
export type SpendFilter = { teamId: string | null; keyId: string | null; model: string | null; provider: string | null; tag: TagFilter | null };
export type SpendQuery = TimeWindow & SpendFilter & { groupBy: GroupBy };
export type ChargebackQuery = TimeWindow & { month: string };
export type UsageCursor = { occurredAt: Date; id: string };
export type UsageQuery = TimeWindow & { teamId: string | null; keyId: string | null; limit: number; cursor: UsageCursor | null };
export type ExportQuery = TimeWindow & { teamId: string | null; keyId: string | null; format: 'csv' };

function parseWith<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const param = first?.code === 'unrecognized_keys' ? (first.keys[0] ?? null) : first?.path.join('.') || null;
  const message = r.error.issues
    .map((i) => (i.code === 'unrecognized_keys' ? `unknown query parameter(s): ${i.keys.join(', ')}` : `${i.path.join('.')}: ${i.message}`))
    .join('; ');
  throw new GatewayError('INVALID_REQUEST', `invalid query: ${message}`, { param });
}

/** `to` defaults to now, `from` to DEFAULT_WINDOW_DAYS before `to`; `from` must be before `to` (`to` exclusive). */
function window(from: Date | undefined, to: Date | undefined, now: Date): TimeWindow {
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
  if (start.getTime() >= end.getTime()) throw new GatewayError('INVALID_REQUEST', 'invalid query: from must be before to', { param: 'from' });
  return { from: start, to: end };
}

export function parseSpendQuery(raw: unknown, now = new Date()): SpendQuery {
  const q = parseWith(SpendQuerySchema, raw);
  return {
    ...window(q.from, q.to, now),
    groupBy: q.groupBy,
    teamId: q.teamId ?? null,
    keyId: q.keyId ?? null,
    model: q.model ?? null,
    provider: q.provider ?? null,
    tag: q.tag ?? null,
  };
}

/** A calendar month (UTC): from its first day to the first day of the next. */
export function parseChargebackQuery(raw: unknown): ChargebackQuery {
  const q = parseWith(ChargebackQuerySchema, raw);
  const [y, m] = q.month.split('-').map(Number) as [number, number];
  return { month: q.month, from: new Date(Date.UTC(y, m - 1, 1)), to: new Date(Date.UTC(y, m, 1)) };
}

/**
 * Splits a window into whole UTC days (answerable from the daily rollup) and the partial-day edges (raw records).
 * Days are YYYY-MM-DD; `firstDay` .. `lastDay` inclusive; none when the window holds no whole day.
 */
export function wholeDays(w: TimeWindow): { days: string[] } {
  const first = Math.ceil(w.from.getTime() / DAY_MS);
  const end = Math.floor(w.to.getTime() / DAY_MS);
  const days: string[] = [];
  for (let d = first; d < end; d++) days.push(new Date(d * DAY_MS).toISOString().slice(0, 10));
  return { days };
}

/** The parts of a window not covered by the given whole days, as [from, to) ranges in order. */
export function uncovered(w: TimeWindow, coveredDays: readonly string[]): TimeWindow[] {
  const covered = [...coveredDays].sort().map((d) => Date.parse(`${d}T00:00:00Z`));
  const out: TimeWindow[] = [];
  let at = w.from.getTime();
  for (const start of covered) {
    if (start > at) out.push({ from: new Date(at), to: new Date(start) });
    at = Math.max(at, start + DAY_MS);
  }
  if (at < w.to.getTime()) out.push({ from: new Date(at), to: w.to });
  return out;
}

export function parseUsageQuery(raw: unknown, now = new Date()): UsageQuery {
  const q = parseWith(UsageQuerySchema, raw);
  return {
    ...window(q.from, q.to, now),
    teamId: q.teamId ?? null,
    keyId: q.keyId ?? null,
    limit: q.limit,
    cursor: q.cursor === undefined ? null : decodeCursor(q.cursor),
  };
}

export function parseExportQuery(raw: unknown, now = new Date()): ExportQuery {
  const q = parseWith(ExportQuerySchema, raw);
  return { ...window(q.from, q.to, now), teamId: q.teamId ?? null, keyId: q.keyId ?? null, format: q.format };
}

/** The position after the last record of a page (records are ordered by occurred_at desc, id desc). */
export function encodeCursor(c: UsageCursor): string {
  return Buffer.from(`${c.occurredAt.getTime()}.${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): UsageCursor {
  const m = /^(\d{1,15})\.(\d{1,19})$/.exec(Buffer.from(s, 'base64url').toString('utf8'));
  if (!m) throw new GatewayError('INVALID_REQUEST', 'invalid query: cursor is not one this API returned', { param: 'cursor' });
  return { occurredAt: new Date(Number(m[1])), id: m[2]! };
}
