type Entry<T> = { value: T; expiresAt: number; refreshAt: number };

/**
 * A small TTL cache with single flight: concurrent misses for one key share one load. The TTL is counted from
 * when the load started, so an entry is never older than `ttlMs` measured from the read of the database.
 *
 * Refresh ahead: a read in the last quarter of an entry's life is still answered from memory, and starts (once) a
 * load in the background that replaces the entry when it arrives. A key in steady use is so never waited for after
 * its first load; an entry is still never served past its expiry (if the background load has not arrived by then,
 * the reader waits for it, as on a miss). A background load that fails is not retried before the entry expires.
 */
export class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly loading = new Map<string, Promise<T>>();
  /** bumped by delete/clear: a load that started before an invalidation does not store its (maybe stale) result */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<T>): T | Promise<T> {
    const e = this.entries.get(key);
    const now = this.now();
    if (e && e.expiresAt > now) {
      if (now >= e.refreshAt && !this.loading.has(key)) {
        e.refreshAt = e.expiresAt; // one background load per entry
        this.start(key, load, now).catch(() => undefined); // a failure: the entry lives out its TTL
      }
      return e.value;
    }
    const pending = this.loading.get(key);
    if (pending) return pending;
    return this.start(key, load, now);
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private start(key: string, load: () => Promise<T>, now: number): Promise<T> {
    const gen = this.generation;
    const p = load().then(
      (value) => {
        if (this.loading.get(key) === p) this.loading.delete(key);
        if (this.ttlMs > 0 && gen === this.generation) {
          if (this.entries.size >= this.maxEntries) this.evictExpired();
          this.entries.set(key, {
            value,
            expiresAt: now + this.ttlMs,
            refreshAt: now + this.ttlMs - this.ttlMs / 4,
          });
        }
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === p) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, p);
    return p;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
  }
}
