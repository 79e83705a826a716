import { GatewayError, type PlanTarget } from '@gw/contracts';
import { HedgeLost } from '../chat/hedge.js';
import type { UpstreamResponse } from './upstream.client.js';

/** Why the executor aborted an attempt itself. */
export type AbortWhy = 'timeout' | 'cancel' | 'deadline' | 'ttft' | 'hedge';

const ERROR_BODY_LIMIT = 64 * 1024;

/** An upstream's error body as text, at most ERROR_BODY_LIMIT of it (the rest is read and dropped). */
export async function readText(res: UpstreamResponse): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const piece of res.body) {
    const b = piece as Buffer;
    if (size < ERROR_BODY_LIMIT) parts.push(b);
    size += b.length;
  }
  return Buffer.concat(parts).toString('utf8').slice(0, ERROR_BODY_LIMIT);
}

/** An error of an attempt, with our own aborts named for what they were. */
export function mapAbort(err: unknown, why: AbortWhy | null, target: PlanTarget, started: boolean, ttftMs: number | null = null): GatewayError {
  switch (why) {
    case 'hedge':
      return new HedgeLost();
    case 'ttft':
      return new GatewayError('PROVIDER_TIMEOUT', `${target.providerId} sent no first token within ${ttftMs ?? 0} ms`);
    case 'cancel':
      return new GatewayError('CANCELLED', 'the client went away');
    case 'deadline':
      return new GatewayError('DEADLINE_EXCEEDED', 'the request deadline passed', { status: 504 });
    case 'timeout':
      return new GatewayError('PROVIDER_TIMEOUT', `${target.providerId} did not answer within ${target.timeoutMs} ms`);
    case null:
      break;
  }
  if (err instanceof GatewayError) return err;
  if (started) return new GatewayError('PROVIDER_ERROR', 'upstream stream ended early');
  return new GatewayError('PROVIDER_UNAVAILABLE', `cannot reach ${target.providerId}`);
}
