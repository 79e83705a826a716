import type { RoutingConfig, TargetOutcomeEvent } from '@gw/contracts';

export type BreakerSettings = RoutingConfig['breaker'];
export type CircuitState = 'closed' | 'open' | 'half-open';

const EWMA_ALPHA = 0.2;
const SAMPLES = 64;
const BUCKETS = 10;
/** requests counted in flight at most (per replica); beyond, the oldest are dropped from the count */
const MAX_PLANNED = 20_000;

/** One target's health, folded from outcome events (every replica folds the same events: the same state). */
class TargetHealth {
  latencyEwma: number | null = null;
  ttftEwma: number | null = null;
  /** recent latencies, a ring, for the p95 (hedge delay) */
  private readonly samples = new Float64Array(SAMPLES);
  private sampleCount = 0;
  private sampleAt = 0;
  consecutiveFailures = 0;
  /** error-rate window: BUCKETS buckets of windowMs / BUCKETS */
  private readonly okBuckets = new Uint32Array(BUCKETS);
  private readonly failBuckets = new Uint32Array(BUCKETS);
  private bucketEpoch = -1;
  state: CircuitState = 'closed';
  openedAt = 0;
  /** half-open: this replica let a probe through at this time (0: none) */
  probeAt = 0;

  private roll(now: number, s: BreakerSettings): number {
    const width = Math.max(1, Math.floor(s.windowMs / BUCKETS));
    const epoch = Math.floor(now / width);
    if (this.bucketEpoch < 0 || epoch - this.bucketEpoch >= BUCKETS) {
      this.okBuckets.fill(0);
      this.failBuckets.fill(0);
    } else {
      for (let e = this.bucketEpoch + 1; e <= epoch; e++) {
        this.okBuckets[e % BUCKETS] = 0;
        this.failBuckets[e % BUCKETS] = 0;
      }
    }
    if (epoch > this.bucketEpoch) this.bucketEpoch = epoch;
    return epoch % BUCKETS;
  }

  errorRate(now: number, s: BreakerSettings): { rate: number; total: number } {
    this.roll(now, s);
    let ok = 0;
    let fail = 0;
    for (let i = 0; i < BUCKETS; i++) {
      ok += this.okBuckets[i]!;
      fail += this.failBuckets[i]!;
    }
    const total = ok + fail;
    return { rate: total ? fail / total : 0, total };
  }

  record(e: TargetOutcomeEvent, now: number, s: BreakerSettings): void {
    if (e.result === 'neutral') {
      if (this.state === 'half-open') this.probeAt = 0; // the probe told nothing: another may go
      return;
    }
    const b = this.roll(now, s);
    if (e.result === 'ok') {
      this.okBuckets[b]!++;
      this.consecutiveFailures = 0;
      this.latencyEwma =
        this.latencyEwma === null
          ? e.latencyMs
          : this.latencyEwma + EWMA_ALPHA * (e.latencyMs - this.latencyEwma);
      if (e.ttftMs !== undefined)
        this.ttftEwma =
          this.ttftEwma === null ? e.ttftMs : this.ttftEwma + EWMA_ALPHA * (e.ttftMs - this.ttftEwma);
      this.samples[this.sampleAt] = e.latencyMs;
      this.sampleAt = (this.sampleAt + 1) % SAMPLES;
      if (this.sampleCount < SAMPLES) this.sampleCount++;
      if (this.state !== 'closed') {
        // a successful call (the half-open probe, or one that was under way when it opened) closes the circuit
        this.state = 'closed';
        this.probeAt = 0;
        this.okBuckets.fill(0);
        this.failBuckets.fill(0);
        this.okBuckets[b] = 1;
      }
      return;
    }
    this.failBuckets[b]!++;
    this.consecutiveFailures++;
    if (this.state === 'half-open') {
      this.open(now);
      return;
    }
    if (this.state === 'open') return;
    const { rate, total } = this.errorRate(now, s);
    if (this.consecutiveFailures >= s.consecutiveFailures || (total >= s.minRequests && rate >= s.errorRate))
      this.open(now);
  }

  private open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.probeAt = 0;
  }

  /** May a request go to this target now? Open: no, until openMs passed; then one probe per openMs (half-open). */
  allow(now: number, s: BreakerSettings): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt < s.openMs) return false;
      this.state = 'half-open';
      this.probeAt = 0;
    }
    if (this.probeAt !== 0 && now - this.probeAt < s.openMs) return false;
    this.probeAt = now;
    return true;
  }

  p95(): number | null {
    if (this.sampleCount < 5) return null;
    const xs = Array.from(this.samples.subarray(0, this.sampleCount)).sort((a, b) => a - b);
    return xs[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!;
  }
}

/**
 * Per-target health of every target this replica plans: latency and time-to-first-token EWMAs, a p95 of recent
 * latencies, the circuit breaker, and this replica's in-flight count. Targets are keyed `provider-id/model`.
 */
export class HealthBoard {
  private readonly targets = new Map<string, TargetHealth>();
  private readonly inFlight = new Map<string, number>();
  /** requestId → target it was planned to first, and when (to end the in-flight count on its final outcome) */
  private readonly planned = new Map<string, { target: string; at: number }>();
  private lastSweep = 0;
  private changed: (target: string, from: CircuitState, to: CircuitState) => void = () => undefined;

  constructor(
    private settings: BreakerSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Called on every circuit state change (the router logs them). */
  onChange(cb: (target: string, from: CircuitState, to: CircuitState) => void): void {
    this.changed = cb;
  }

  configure(settings: BreakerSettings): void {
    this.settings = settings;
  }

  private get(target: string): TargetHealth {
    let h = this.targets.get(target);
    if (!h) {
      h = new TargetHealth();
      this.targets.set(target, h);
    }
    return h;
  }

  record(e: TargetOutcomeEvent): void {
    if (e.target) {
      const h = this.get(e.target);
      const from = h.state;
      h.record(e, this.clock(), this.settings);
      if (h.state !== from) this.changed(e.target, from, h.state);
    }
    if (e.final) {
      const p = this.planned.get(e.requestId);
      if (p) {
        this.planned.delete(e.requestId);
        this.inFlight.set(p.target, Math.max(0, (this.inFlight.get(p.target) ?? 1) - 1));
      }
    }
  }

  allow(target: string): boolean {
    const h = this.targets.get(target);
    if (!h) return true;
    const from = h.state;
    const ok = h.allow(this.clock(), this.settings);
    if (h.state !== from) this.changed(target, from, h.state);
    return ok;
  }

  state(target: string): CircuitState {
    return this.targets.get(target)?.state ?? 'closed';
  }

  latency(target: string): number | null {
    const h = this.targets.get(target);
    if (!h || h.latencyEwma === null) return null;
    // time to first token weighs in when known: what a streaming client waits for first
    return h.ttftEwma === null ? h.latencyEwma : (h.latencyEwma + h.ttftEwma) / 2;
  }

  p95(target: string): number | null {
    return this.targets.get(target)?.p95() ?? null;
  }

  busy(target: string): number {
    return this.inFlight.get(target) ?? 0;
  }

  /** A request was planned with this target first; its final outcome event (or maxAgeMs) ends it. */
  started(requestId: string, target: string, maxAgeMs: number): void {
    const now = this.clock();
    if (this.planned.size >= MAX_PLANNED && now - this.lastSweep >= 1_000) this.sweep(now, maxAgeMs);
    this.planned.set(requestId, { target, at: now });
    this.inFlight.set(target, (this.inFlight.get(target) ?? 0) + 1);
  }

  /** Ends counts whose final event never came (older than maxAgeMs), and keeps the map bounded (oldest first). */
  private sweep(now: number, maxAgeMs: number): void {
    this.lastSweep = now;
    let excess = this.planned.size - MAX_PLANNED / 2;
    for (const [id, p] of this.planned) {
      if (now - p.at < maxAgeMs && excess <= 0) break; // insertion order: the rest is younger
      this.planned.delete(id);
      excess--;
      this.inFlight.set(p.target, Math.max(0, (this.inFlight.get(p.target) ?? 1) - 1));
    }
  }
}
