export * from './types.js';
export * from './registry.js';
export { openAiCompatible } from './openai-compatible/index.js';
export {
  buildChatRequest,
  embeddingsAdapter,
  isContextOverflow,
  joinUrl,
  OpenAiStreamTranslator,
  parseChatResponse,
  parseError as parseOpenAiError,
  readErrorBody,
  retryAfterSeconds,
  SseDecoder,
  upstreamHeaders,
  type CompatibleOptions,
} from './openai-compatible/index.js';
export { expandBaseUrl } from './shared/base-url.js';
export { EventStreamDecoder, encodeEvent, encodeMessage } from './bedrock/eventstream.js';
export { signV4, type AwsCredentials } from './bedrock/sigv4.js';
export { catalogueProviders, PROVIDER_CATALOGUE, type CatalogueEntry, type CatalogueId, type CatalogueProvider } from './catalogue.js';
export * as anthropicIngress from './anthropic-ingress/index.js';
