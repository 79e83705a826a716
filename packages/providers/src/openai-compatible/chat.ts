import { GatewayError, type ChatCompletion, type ChatCompletionRequest } from '@gw/contracts';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';

/** What distinguishes one OpenAI-compatible provider from another: declarative, no code. */
export type CompatibleOptions = {
  /** ask for `stream_options.include_usage` on streams (default true) */
  streamUsage?: boolean;
  /** request parameters the provider does not accept: dropped, or refused with a 400 (TranslateOptions) */
  unsupportedParams?: readonly string[];
};

export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.endsWith('/') ? `${baseUrl.slice(0, -1)}${path}` : `${baseUrl}${path}`;
}

export function upstreamHeaders(provider: ResolvedProvider, accept: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept };
  if (provider.apiKey) h['authorization'] = `Bearer ${provider.apiKey}`;
  for (const k in provider.headers) h[k.toLowerCase()] = provider.headers[k] as string;
  return h;
}

export function buildChatRequest(
  req: ChatCompletionRequest,
  stream: boolean,
  provider: ResolvedProvider,
  ctx: ChatContext,
  opts: TranslateOptions,
  options: CompatibleOptions,
): UpstreamRequest {
  const body: Record<string, unknown> = { ...req, model: ctx.model, stream };
  if (stream) {
    if (options.streamUsage !== false) body['stream_options'] = { ...(req.stream_options ?? {}), include_usage: true };
  } else delete body['stream_options'];
  for (const p of options.unsupportedParams ?? []) {
    if (body[p] === undefined) continue;
    if (opts.unsupportedParams === 'reject')
      throw new GatewayError('INVALID_REQUEST', `the parameter \`${p}\` is not supported by this provider`, { param: p });
    delete body[p];
  }
  return {
    method: 'POST',
    url: joinUrl(provider.baseUrl, '/chat/completions'),
    headers: upstreamHeaders(provider, stream ? 'text/event-stream' : 'application/json'),
    body: JSON.stringify(body),
  };
}

/** The upstream completion as it is (its `model` is the name the upstream reported), after a shape check. */
export function parseChatResponse(body: unknown, _ctx: ChatContext): ChatCompletion {
  const b = body as Partial<ChatCompletion> | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.choices) || typeof b.id !== 'string') {
    throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent a malformed completion');
  }
  if (b.object === undefined) b.object = 'chat.completion';
  return b as ChatCompletion;
}
