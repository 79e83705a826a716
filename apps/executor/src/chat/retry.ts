import type { ErrorCode, GatewayError, PlanPolicy } from '@gw/contracts';

/** When the plan carries no policy (an older router): one walk of the plan, no retries, no extra timeouts. */
export const NO_POLICY: PlanPolicy = {
  maxRetries: 0,
  baseDelayMs: 0,
  maxDelayMs: 0,
  retryAfterCapMs: 0,
  totalTimeoutMs: null,
  ttftTimeoutMs: null,
  hedge: false,
};

/** Failures that say something about a target now, and may pass: worth another round after a pause. */
const TRANSIENT = new Set<ErrorCode>([
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_ERROR',
  'PROVIDER_TIMEOUT',
]);

export function isTransient(e: GatewayError): boolean {
  return e.retryable && TRANSIENT.has(e.code);
}

/** Does a failure count against the target's health (circuit breaker, error rate)? A 4xx of the request does not. */
export function countsAgainstTarget(e: GatewayError): boolean {
  return TRANSIENT.has(e.code);
}

/**
 * The pause before retry round `round` (1-based): exponential backoff with full jitter in [d/2, d], d =
 * base × 2^(round-1) capped at maxDelayMs, and never shorter than the shortest retry-after the targets asked
 * for. null when that retry-after is beyond retryAfterCapMs: waiting that long is not worth it, the request fails.
 */
export function backoffMs(
  policy: PlanPolicy,
  round: number,
  retryAfterSeconds: number | undefined,
  random: () => number = Math.random,
): number | null {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (round - 1));
  const jittered = d / 2 + random() * (d / 2);
  if (retryAfterSeconds === undefined) return Math.round(jittered);
  const asked = retryAfterSeconds * 1000;
  if (asked > policy.retryAfterCapMs) return null;
  return Math.round(Math.max(jittered, asked));
}

/** Resolves after ms, or at once when the signal aborts (the caller checks why). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
