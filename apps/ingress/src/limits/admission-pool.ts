import { randomUUID } from 'node:crypto';
import type { AdmitRequest, AdmitResult, Budgets } from '@gw/budgets';

/** An admission taken in Redis ahead of the request that will use it (ADR 0019). */
export type Slot = {
  /** the id it was admitted under: the request that takes it is settled and released by this id */
  id: string;
  at: number;
  amountNanoUsd: bigint;
  tokens: number;
  headers: Record<string, string>;
};

/** What a slot of a pool is admitted for: the request's scopes, and the amount and tokens it holds. */
export type SlotTemplate = Pick<AdmitRequest, 'rates' | 'budgets' | 'tokens' | 'amountNanoUsd'>;

export type AdmissionPoolOptions = {
  /** how long a slot may wait for its request before it is given back */
  ttlMs: number;
  /** slots kept ready per pool (key × team × model × limits) */
  size: number;
  /** slots are taken only while every limit has at least this many slots' worth left */
  minHeadroomSlots: number;
  now?: () => number;
};

/** `template`: what a new slot is admitted for; null = the limits are near, nothing more is taken ahead */
type Pool = { slots: Slot[]; inflight: number; template: SlotTemplate | null };

/** slots given back per Redis round trip */
const GIVE_BACK_CHUNK = 8;

/**
 * Admissions taken ahead of their requests, so that a request far from its limits does not wait for Redis
 * (ADR 0019). Each slot is a real ADMIT under its own id: its budget amount is held and its tokens counted before any
 * request uses it, and it is logged in the RPM windows as of the latest moment it may be used. So a slot can only make
 * the limits stricter, never looser, and the budgets stay exact: what a request spends was reserved before it was
 * admitted. A pool exists only while every limit of the request has `minHeadroomSlots` slots' worth left and no
 * concurrency limit applies (a slot waiting would hold a concurrency place); near a limit every request takes the
 * per-request path. A slot not taken within `ttlMs`, or once its clock minute is over, is given back (settled at 0).
 */
export class AdmissionPool {
  private readonly pools = new Map<string, Pool>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly budgets: Pick<Budgets, 'admit' | 'settle'>,
    private readonly opts: AdmissionPoolOptions,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), Math.max(50, Math.floor(opts.ttlMs / 4)));
    this.timer.unref();
  }

  /** A slot that holds at least `amountNanoUsd` and `tokens`, still usable now; null = take the per-request path. */
  take(key: string, amountNanoUsd: bigint, tokens: number): Slot | null {
    const pool = this.pools.get(key);
    if (!pool) return null;
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    for (let i = 0; i < pool.slots.length; i++) {
      const s = pool.slots[i]!;
      if (!this.usable(s, now, minute)) continue;
      if (s.amountNanoUsd < amountNanoUsd || s.tokens < tokens) continue;
      pool.slots.splice(i, 1);
      this.fill(key, pool);
      return s;
    }
    return null;
  }

  /**
   * After an admission that left every limit far away: keep `size` slots ready for the next requests like it
   * (a slot holds `template`'s amount and tokens). An admission near a limit, or with a concurrency limit, drops the
   * pool's template so that nothing more is taken ahead.
   */
  offer(key: string, template: SlotTemplate, result: AdmitResult): void {
    if (this.closed) return;
    if (!this.farFromLimits(template, result)) {
      const pool = this.pools.get(key);
      if (pool) pool.template = null;
      return;
    }
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { slots: [], inflight: 0, template };
      this.pools.set(key, pool);
    } else {
      pool.template = template;
    }
    this.fill(key, pool);
  }

  /** Gives every slot back (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const all: Slot[] = [];
    for (const pool of this.pools.values()) all.push(...pool.slots.splice(0));
    this.pools.clear();
    await this.giveBack(all);
  }

  /** slots ready and being taken, per pool (tests and metrics) */
  stats(): { pools: number; slots: number; inflight: number } {
    let slots = 0;
    let inflight = 0;
    for (const p of this.pools.values()) {
      slots += p.slots.length;
      inflight += p.inflight;
    }
    return { pools: this.pools.size, slots, inflight };
  }

  /** within its time, and in the clock minute it was taken in: TPM counters and budget periods turn on minutes */
  private usable(s: Slot, now: number, minute: number): boolean {
    return now - s.at < this.opts.ttlMs && Math.floor(s.at / 60_000) === minute;
  }

  private farFromLimits(t: SlotTemplate, r: AdmitResult): boolean {
    if (!r.ok) return false;
    if (t.rates.some((s) => s.concurrent !== null)) return false;
    const n = this.opts.minHeadroomSlots;
    if (r.remainingRequests !== null && r.remainingRequests < n) return false;
    if (r.remainingTokens !== null && r.remainingTokens < n * t.tokens) return false;
    if (r.budgetHeadroomNanoUsd !== null && r.budgetHeadroomNanoUsd < n * Number(t.amountNanoUsd)) return false;
    return true;
  }

  private fill(key: string, pool: Pool): void {
    const t = pool.template;
    if (this.closed || t === null) return;
    while (pool.slots.length + pool.inflight < this.opts.size) {
      pool.inflight++;
      const id = `slot-${randomUUID()}`;
      const at = this.now();
      this.budgets
        .admit({ ...t, requestId: id, nowMs: at, rpmAheadMs: this.opts.ttlMs })
        .then((r) => {
          pool.inflight--;
          if (!r.ok) {
            pool.template = null; // refused: the limits are near, stop taking ahead
            return;
          }
          const headers = admissionHeaders(r);
          const slot: Slot = { id, at, amountNanoUsd: t.amountNanoUsd, tokens: t.tokens, headers };
          if (this.closed || this.pools.get(key) !== pool) {
            void this.giveBack([slot]);
            return;
          }
          pool.slots.push(slot);
          if (!this.farFromLimits(t, r)) pool.template = null;
        })
        .catch((err: unknown) => {
          pool.inflight--;
          this.onError(err);
        });
    }
  }

  /** Gives back the slots that can no longer be taken; forgets pools with nothing ready or coming. */
  private sweep(): void {
    const now = this.now();
    const minute = Math.floor(now / 60_000);
    const stale: Slot[] = [];
    for (const [key, pool] of this.pools) {
      const keep: Slot[] = [];
      for (const s of pool.slots) (this.usable(s, now, minute) ? keep : stale).push(s);
      pool.slots = keep;
      if (keep.length === 0 && pool.inflight === 0) this.pools.delete(key);
    }
    if (stale.length) void this.giveBack(stale);
  }

  /**
   * Settling at 0 releases the amount held, gives the tokens back and deletes the record (SETTLE is idempotent).
   * A few at a time: Redis runs scripts one after the other, and hundreds of slots given back in one pipeline (a set
   * of keys gone quiet together) would hold every other client's commands for milliseconds.
   */
  private async giveBack(slots: readonly Slot[]): Promise<void> {
    for (let i = 0; i < slots.length; i += GIVE_BACK_CHUNK) {
      try {
        await this.budgets.settle(
          slots.slice(i, i + GIVE_BACK_CHUNK).map((s) => ({ requestId: s.id, costNanoUsd: 0n, tokens: 0 })),
        );
      } catch (err) {
        this.onError(err); // the holds expire by themselves (BUDGET_HOLD_TTL_MS)
      }
    }
  }
}

/** The x-ratelimit-* headers of an admission. */
export function admissionHeaders(result: AdmitResult): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.limitRequests !== null) headers['x-ratelimit-limit-requests'] = String(result.limitRequests);
  if (result.remainingRequests !== null)
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, result.remainingRequests));
  if (result.limitTokens !== null) headers['x-ratelimit-limit-tokens'] = String(result.limitTokens);
  if (result.remainingTokens !== null)
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, result.remainingTokens));
  return headers;
}
