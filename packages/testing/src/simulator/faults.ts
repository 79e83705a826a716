import type { Fault, FaultRule } from './types.js';

/** Fault rules: validation (they also arrive over HTTP), matching in order, and `times` bookkeeping. */

const KINDS = new Set<Fault['kind']>(['status', 'timeout', 'latency', 'slow-first-chunk', 'chunk-delay', 'cut-stream', 'malformed-json']);

function nonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** A fault from untrusted JSON, or a message saying what is wrong with it. */
export function parseFault(raw: unknown): Fault | string {
  if (!raw || typeof raw !== 'object') return 'a fault must be an object';
  const f = raw as Record<string, unknown>;
  const kind = f['kind'];
  if (typeof kind !== 'string' || !KINDS.has(kind as Fault['kind'])) return `unknown fault kind ${String(kind)}`;
  switch (kind as Fault['kind']) {
    case 'status': {
      const status = f['status'];
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return 'status: an HTTP status is required';
      if (f['retryAfterSeconds'] !== undefined && !nonNegativeInt(f['retryAfterSeconds'])) return 'status: retryAfterSeconds must be an integer >= 0';
      return raw as Fault;
    }
    case 'latency':
    case 'slow-first-chunk':
      return nonNegativeInt(f['ms']) ? (raw as Fault) : `${kind}: ms must be an integer >= 0`;
    case 'chunk-delay':
      if (!nonNegativeInt(f['ms'])) return 'chunk-delay: ms must be an integer >= 0';
      if (f['chunks'] !== undefined && !(nonNegativeInt(f['chunks']) && f['chunks'] > 0)) return 'chunk-delay: chunks must be an integer > 0';
      return raw as Fault;
    case 'cut-stream':
      return nonNegativeInt(f['afterChunks']) ? (raw as Fault) : 'cut-stream: afterChunks must be an integer >= 0';
    case 'timeout':
    case 'malformed-json':
      return raw as Fault;
  }
}

/** Rules from untrusted JSON (POST /__sim/faults), or a message saying what is wrong. */
export function parseRules(raw: unknown): FaultRule[] | string {
  if (!Array.isArray(raw)) return 'the body must be a JSON array of rules';
  const out: FaultRule[] = [];
  for (let i = 0; i < raw.length; i++) {
    const r: unknown = raw[i];
    if (!r || typeof r !== 'object') return `rule ${i}: must be an object`;
    const rule = r as Record<string, unknown>;
    if (rule['times'] !== undefined && !nonNegativeInt(rule['times'])) return `rule ${i}: times must be an integer >= 0`;
    if (rule['outputTokens'] !== undefined && !(nonNegativeInt(rule['outputTokens']) && rule['outputTokens'] > 0)) {
      return `rule ${i}: outputTokens must be an integer > 0`;
    }
    if (rule['fault'] !== undefined) {
      const f = parseFault(rule['fault']);
      if (typeof f === 'string') return `rule ${i}: ${f}`;
    }
    const match = rule['match'] as { model?: unknown; header?: unknown } | undefined;
    if (match !== undefined) {
      if (typeof match !== 'object' || match === null) return `rule ${i}: match must be an object`;
      if (match.model !== undefined && typeof match.model !== 'string') return `rule ${i}: match.model must be a string`;
      const h = match.header;
      if (h !== undefined && !(Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) {
        return `rule ${i}: match.header must be [name, value]`;
      }
    }
    out.push(r);
  }
  return out;
}

type Live = { rule: FaultRule; remaining: number };

export class FaultStore {
  private live: Live[] = [];

  set(rules: FaultRule[]): void {
    this.live = rules.map((rule) => ({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY }));
  }

  clear(): void {
    this.live = [];
  }

  get empty(): boolean {
    return this.live.length === 0;
  }

  /** The first rule that matches and is not used up (its use is counted), or null. */
  take(model: string | null, header: (name: string) => string | undefined): FaultRule | null {
    for (const l of this.live) {
      if (l.remaining <= 0) continue;
      const m = l.rule.match;
      if (m?.model !== undefined && m.model !== model) continue;
      if (m?.header !== undefined && header(m.header[0].toLowerCase()) !== m.header[1]) continue;
      l.remaining--;
      return l.rule;
    }
    return null;
  }
}
