import { randomBytes, randomUUID } from 'node:crypto';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The client's x-request-id when it is a sane token (echoed back), else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Random bytes for new trace ids, drawn from a pool refilled in one call (one randomBytes per 170 traces, not per trace). */
const TRACE_BYTES = 24;
const POOL_BYTES = TRACE_BYTES * 170;
let pool = randomBytes(POOL_BYTES);
let poolOffset = 0;

function traceBytes(): string {
  if (poolOffset + TRACE_BYTES > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + TRACE_BYTES);
  poolOffset += TRACE_BYTES;
  return hex;
}

/** The client's W3C traceparent when valid, else a new sampled trace. */
export function traceparentFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && TRACEPARENT.test(header)) return header;
  const b = traceBytes();
  return `00-${b.slice(0, 32)}-${b.slice(32)}-01`;
}

export type CacheDirective = 'default' | 'no-cache' | 'no-store' | 'no-cache,no-store';

/** `x-gateway-cache: no-cache | no-store` (both may be given, comma separated). */
export function cacheDirectiveFrom(header: string | string[] | undefined): CacheDirective {
  if (typeof header !== 'string' || header === '') return 'default';
  const v = header.toLowerCase();
  const noCache = v.includes('no-cache');
  const noStore = v.includes('no-store');
  if (noCache && noStore) return 'no-cache,no-store';
  if (noCache) return 'no-cache';
  if (noStore) return 'no-store';
  return 'default';
}

/** `x-gateway-tags: team=a,env=prod` → {team:'a', env:'prod'}; pieces without `=` or an empty key are ignored. */
export function tagsFrom(header: string | string[] | undefined, base: Record<string, string>): Record<string, string> {
  if (typeof header !== 'string' || header === '') return base;
  const out: Record<string, string> = { ...base };
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k && k.length <= 64 && v.length <= 256) out[k] = v;
  }
  return out;
}
