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
export { catalogueProviders, PROVIDER_CATALOGUE, type CatalogueEntry, type CatalogueId, type CatalogueProvider } from './catalogue.js';
