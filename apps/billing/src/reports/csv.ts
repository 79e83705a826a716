import { formatNanoUsd } from '@gw/contracts';
import type { UsageRecordRow } from './reports.repository.js';

/** RFC 4180 field: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  // a text cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(values: Array<string | number | boolean | null>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const EXPORT_COLUMNS = [
  'request_id',
  'occurred_at',
  'org_id',
  'team_id',
  'key_id',
  'end_user',
  'requested_model',
  'provider_id',
  'model',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cost_usd',
  'cost_nano_usd',
  'latency_ms',
  'cache_status',
  'status',
  'error_code',
  'usage_estimated',
  'stream',
  'attempts',
  'tags',
  'mode',
  'saving_usd',
  'input_images',
] as const;

export function exportHeader(): string {
  return csvLine([...EXPORT_COLUMNS]);
}

export function exportLine(r: UsageRecordRow): string {
  return csvLine([
    r.request_id,
    r.occurred_at.toISOString(),
    r.org_id,
    r.team_id,
    r.key_id,
    r.end_user,
    r.requested_model,
    r.provider_id,
    r.model,
    r.input_tokens,
    r.output_tokens,
    r.cached_input_tokens,
    formatNanoUsd(BigInt(r.cost_nano_usd)),
    r.cost_nano_usd,
    r.latency_ms,
    r.cache_status,
    r.status,
    r.error_code,
    r.usage_estimated,
    r.stream,
    r.attempts,
    JSON.stringify(r.tags),
    r.mode,
    formatNanoUsd(BigInt(r.saving_nano_usd)),
    r.input_images,
  ]);
}
