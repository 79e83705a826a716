import { GatewayError, type ChatCompletion, type ChatCompletionRequest } from '@gw/contracts';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';

export type CompatibleEndpoint = '/chat/completions' | '/embeddings';

/**
 * What distinguishes one OpenAI-compatible provider from another. Mostly declarative; the optional hooks let a
 * provider that spells a few things differently (Azure's URLs and `api-key` header, Mistral's `random_seed`,
 * DeepSeek's cache usage) stay a small folder on this base instead of a copy of it.
 */
export type CompatibleOptions = {
  /** ask for `stream_options.include_usage` on streams (default true) */
  streamUsage?: boolean;
  /** request parameters the provider does not accept: dropped, or refused with a 400 (TranslateOptions) */
  unsupportedParams?: readonly string[];
  /** the URL of an endpoint (default: the base URL + the path) */
  url?: (provider: ResolvedProvider, path: CompatibleEndpoint, ctx: ChatContext) => string;
  /** the credential headers (default: `authorization: Bearer <apiKey>` when there is a key) */
  auth?: (provider: ResolvedProvider) => Record<string, string>;
  /** reshapes the outgoing body in place, after the generic translation and before unsupported params are checked */
  body?: (
    body: Record<string, unknown>,
    req: ChatCompletionRequest,
    ctx: ChatContext,
    opts: TranslateOptions,
  ) => void;
  /** normalises a parsed completion in place (e.g. a provider's content arrays or usage names) */
  completion?: (completion: Record<string, unknown>) => void;
  /** a fresh normaliser per stream, applied in place to each parsed chunk (it may keep state, e.g. tool indices) */
  chunk?: () => (chunk: Record<string, unknown>) => void;
};

export function joinUrl(baseUrl: string, path: string): string {
  return baseUrl.endsWith('/') ? `${baseUrl.slice(0, -1)}${path}` : `${baseUrl}${path}`;
}

export function bearerAuth(provider: ResolvedProvider): Record<string, string> {
  return provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {};
}

export function upstreamHeaders(
  provider: ResolvedProvider,
  accept: string,
  auth: (p: ResolvedProvider) => Record<string, string> = bearerAuth,
): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept, ...auth(provider) };
  for (const k in provider.headers) h[k.toLowerCase()] = provider.headers[k] as string;
  return h;
}

/** Parameters named in `names` that the body carries: dropped, or a 400 naming the first one in 'reject' mode. */
export function applyUnsupported(
  body: Record<string, unknown>,
  names: readonly string[],
  opts: TranslateOptions,
): void {
  for (const p of names) {
    const v = body[p];
    if (v === undefined || v === null || v === false) {
      delete body[p];
      continue;
    }
    if (opts.unsupportedParams === 'reject')
      throw new GatewayError('INVALID_REQUEST', `the parameter \`${p}\` is not supported by this provider`, {
        param: p,
      });
    delete body[p];
  }
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
    if (options.streamUsage !== false)
      body['stream_options'] = { ...(req.stream_options ?? {}), include_usage: true };
  } else delete body['stream_options'];
  options.body?.(body, req, ctx, opts);
  applyUnsupported(body, options.unsupportedParams ?? [], opts);
  return {
    method: 'POST',
    url: options.url
      ? options.url(provider, '/chat/completions', ctx)
      : joinUrl(provider.baseUrl, '/chat/completions'),
    headers: upstreamHeaders(provider, stream ? 'text/event-stream' : 'application/json', options.auth),
    body: JSON.stringify(body),
  };
}

/** The upstream completion as it is (its `model` is the name the upstream reported), after a shape check. */
export function parseChatResponse(
  body: unknown,
  _ctx: ChatContext,
  options: CompatibleOptions = {},
): ChatCompletion {
  const b = body as Partial<ChatCompletion> | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.choices) || typeof b.id !== 'string') {
    throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent a malformed completion');
  }
  if (b.object === undefined) b.object = 'chat.completion';
  options.completion?.(b);
  return b as ChatCompletion;
}
