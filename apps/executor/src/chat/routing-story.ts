import type { GatewayError, Plan, PlanTarget, TargetOutcomeEvent, UsageEvent } from '@gw/contracts';
import { countsAgainstTarget } from './retry.js';

type Routing = NonNullable<UsageEvent['routing']>;
type Entry = Routing['attempts'][number];

/** Where outcome events go: routing.evt.target-outcome.v1, heard by every router replica. */
export type OutcomeSink = (e: TargetOutcomeEvent) => void;

/** Short reasons for the x-gateway-route header: the upstream status where the code says it, else a word. */
const SHORT: Record<string, string> = {
  PROVIDER_RATE_LIMITED: '429',
  PROVIDER_UNAVAILABLE: '503',
  PROVIDER_ERROR: '5xx',
  PROVIDER_TIMEOUT: 'timeout',
  CONTEXT_WINDOW_EXCEEDED: 'context',
  CANCELLED: 'cancelled',
  DEADLINE_EXCEEDED: 'deadline',
};

/**
 * One request's routing story: every attempt in order (retries too), what happened and how long it took, plus
 * the targets the router skipped. It becomes the usage event's `routing`, the `x-gateway-route` header and a log
 * line; each attempt is also told to the routers (health) as it ends.
 */
export class RoutingStory {
  private readonly entries: Entry[] = [];
  /** attempts under way (a hedged pair): at the winner's answer, the other one is about to lose */
  private readonly running = new Set<PlanTarget>();

  constructor(
    private readonly plan: Plan,
    private readonly requestId: string,
    private readonly sink: OutcomeSink | null,
  ) {}

  begin(t: PlanTarget): void {
    this.running.add(t);
  }

  ok(t: PlanTarget, latencyMs: number, ttftMs: number | undefined): void {
    this.running.delete(t);
    this.entries.push({ providerId: t.providerId, model: t.model, outcome: 'ok', latencyMs });
    this.tell(t, 'ok', latencyMs, undefined, ttftMs);
  }

  failed(t: PlanTarget, e: GatewayError, latencyMs: number): void {
    this.running.delete(t);
    const last = this.entries.at(-1);
    if (last && last.outcome === 'ok' && last.providerId === t.providerId && last.model === t.model) {
      // a stream that started and then broke: one attempt, and it failed
      last.outcome = 'failed';
      last.error = e.code;
      last.latencyMs = latencyMs;
      this.tell(t, countsAgainstTarget(e) ? 'failed' : 'neutral', latencyMs, e.code);
      return;
    }
    this.entries.push({
      providerId: t.providerId,
      model: t.model,
      outcome: 'failed',
      error: e.code,
      latencyMs,
    });
    this.tell(t, countsAgainstTarget(e) ? 'failed' : 'neutral', latencyMs, e.code);
  }

  cancelled(t: PlanTarget, latencyMs: number): void {
    this.running.delete(t);
    this.entries.push({ providerId: t.providerId, model: t.model, outcome: 'cancelled', latencyMs });
    this.tell(t, 'neutral', latencyMs, 'CANCELLED');
  }

  hedgeLost(t: PlanTarget, latencyMs: number): void {
    this.running.delete(t);
    this.entries.push({ providerId: t.providerId, model: t.model, outcome: 'hedge_lost', latencyMs });
    this.tell(t, 'neutral', latencyMs, 'HEDGE_LOST');
  }

  /** The last event of the request: the routers' in-flight count of it ends. */
  finish(): void {
    this.sink?.({
      target: '',
      requestId: this.requestId,
      result: 'neutral',
      latencyMs: 0,
      final: true,
      at: Date.now(),
    });
  }

  private tell(
    t: PlanTarget,
    result: TargetOutcomeEvent['result'],
    latencyMs: number,
    error: string | undefined,
    ttftMs?: number,
  ): void {
    if (!this.sink) return;
    const e: TargetOutcomeEvent = {
      target: `${t.providerId}/${t.model}`,
      requestId: this.requestId,
      result,
      latencyMs,
      final: false,
      at: Date.now(),
    };
    if (error !== undefined) e.error = error;
    if (ttftMs !== undefined) e.ttftMs = ttftMs;
    this.sink(e);
  }

  routing(): Routing {
    const skipped: Entry[] = this.plan.skipped.map((s) => ({
      providerId: s.providerId,
      model: s.model,
      outcome: 'skipped',
      error: s.reason,
      latencyMs: 0,
    }));
    return { strategy: this.plan.strategy, attempts: [...this.entries, ...skipped] };
  }

  /** `openai/gpt-4o-mini:429,anthropic/claude:ok` (skipped targets: `:skipped`). */
  header(): string {
    const parts = this.entries.map(
      (e) =>
        `${e.providerId}/${e.model}:${e.outcome === 'failed' ? (SHORT[e.error ?? ''] ?? (e.error ?? 'failed').toLowerCase()) : e.outcome}`,
    );
    for (const t of this.running) parts.push(`${t.providerId}/${t.model}:hedge_lost`);
    for (const s of this.plan.skipped) parts.push(`${s.providerId}/${s.model}:skipped`);
    return parts.join(',');
  }
}
