import type { ChatCompletion, ChatCompletionRequest, GatewayError } from '@gw/contracts';
import type { ChatContext, ProviderAdapter, ResolvedProvider, TranslateOptions } from '../types.js';
import { replayStream, type Replay } from './replay.js';

/**
 * Sends an adapter's request over real HTTP and translates the answer back, as the executor does (without its
 * retries, deadlines or pools): for round-trip tests against the provider simulator and for manual checks.
 */

export type RoundTrip =
  | { ok: true; status: number; completion: ChatCompletion }
  | { ok: true; status: number; stream: Replay }
  | { ok: false; status: number; error: GatewayError };

export async function roundTrip(
  adapter: ProviderAdapter,
  req: ChatCompletionRequest,
  stream: boolean,
  provider: ResolvedProvider,
  ctx: ChatContext,
  opts: TranslateOptions = { unsupportedParams: 'drop' },
): Promise<RoundTrip> {
  const up = adapter.chat.buildRequest(req, stream, provider, ctx, opts);
  const res = await fetch(up.url, { method: up.method, headers: up.headers, body: up.body });
  if (res.status < 200 || res.status >= 300) {
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { ok: false, status: res.status, error: adapter.chat.parseError(res.status, await res.text(), headers) };
  }
  if (!stream) return { ok: true, status: res.status, completion: adapter.chat.parseResponse(await res.json(), ctx) };
  const pieces: Uint8Array[] = [];
  if (res.body) for await (const piece of res.body) pieces.push(piece as Uint8Array);
  return { ok: true, status: res.status, stream: replayStream(adapter.chat, ctx, pieces) };
}
