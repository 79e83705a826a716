import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  GatewayError,
  ProviderType,
  Usage,
} from '@gw/contracts';

/**
 * The provider adapter interface. Adapters are framework-free and declarative: they translate, the executor
 * calls. Shared code never branches on a provider name; a provider is one folder under src/<provider-id>/
 * with the same file names (index.ts exporting `adapter`, chat.ts, stream.ts, errors.ts, embeddings.ts as needed).
 */

/** Provider-specific settings from the config (azure apiVersion, bedrock region and credentials, ...). */
export type ProviderOptions = Record<string, string | undefined>;

/** Everything an adapter needs to address one configured provider (credentials never leave the executor). */
export type ResolvedProvider = {
  id: string;
  type: ProviderType;
  /** the base URL in the provider's own SDK convention (OpenAI-style ends in /v1; Anthropic/Gemini: host root) */
  baseUrl: string;
  apiKey: string | undefined;
  headers: Record<string, string>;
  /** provider-specific settings (azure apiVersion, bedrock region and credentials, ...) */
  options: ProviderOptions;
};

export type UpstreamRequest = {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
};

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** One decoded event of a provider stream (an SSE event, or an AWS event-stream message). */
export type StreamEvent = { event?: string; data: string };

/** Splits a byte stream into events; keeps partial input between pushes. */
export type StreamDecoder = {
  push(bytes: Uint8Array): StreamEvent[];
  /** what is left at the end of the body (a final event without its blank line) */
  end(): StreamEvent[];
};

export type ChatContext = {
  /** the model name the upstream expects (from the plan target) */
  model: string;
  requestId: string;
  /** epoch seconds, for `created` */
  created: number;
};

/** Turns a provider's native stream into OpenAI chunks, keeping indices and usage across events. */
export type StreamTranslator = {
  push(event: StreamEvent): ChatCompletionChunk[];
  /** chunks still owed at the end (e.g. a finish_reason the provider sent separately) */
  finish(): ChatCompletionChunk[];
  /** usage as the provider reported it, once known */
  usage(): Usage | null;
  /** the stream said it is complete (a [DONE], a message_stop, a last event): a stream that ends without it was cut */
  done(): boolean;
};

export type TranslateOptions = {
  /** a parameter the provider lacks: drop it (default) or refuse with a 400 */
  unsupportedParams: 'drop' | 'reject';
};

export type ChatAdapter = {
  buildRequest(req: ChatCompletionRequest, stream: boolean, provider: ResolvedProvider, ctx: ChatContext, opts: TranslateOptions): UpstreamRequest;
  parseResponse(body: unknown, ctx: ChatContext): ChatCompletion;
  createStreamDecoder(): StreamDecoder;
  createStreamTranslator(ctx: ChatContext): StreamTranslator;
  /** a non-2xx answer (or an error inside a 200, such as a stream error event) → GatewayError */
  parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError;
};

export type EmbeddingsRequest = {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
  user?: string;
};
export type EmbeddingsResponse = {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
};

export type EmbeddingsAdapter = {
  buildRequest(req: EmbeddingsRequest, provider: ResolvedProvider, ctx: ChatContext): UpstreamRequest;
  parseResponse(body: unknown, ctx: ChatContext): EmbeddingsResponse;
  parseError(status: number, body: string, headers: UpstreamHeaders): GatewayError;
};

export type ProviderAdapter = {
  type: ProviderType;
  /**
   * default base URL when the config gives none (null: the config must give one). It may name provider options in
   * braces, filled in when the provider is resolved (e.g. `https://bedrock-runtime.{region}.amazonaws.com`).
   */
  defaultBaseUrl: string | null;
  /**
   * The provider takes images only as bytes: before buildRequest the executor fetches every http(s) image URL of the
   * request (with its size cap, timeout and address rules) and hands the adapter base64 data URLs instead.
   */
  needsImageBytes?: boolean;
  /** the provider's options completed from the environment (credentials, region), once when the provider is resolved */
  optionsFromEnv?(options: ProviderOptions, env: Readonly<Record<string, string | undefined>>): ProviderOptions;
  chat: ChatAdapter;
  embeddings?: EmbeddingsAdapter;
};
