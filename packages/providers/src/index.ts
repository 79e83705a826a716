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
export * as anthropicIngress from './anthropic-ingress/index.js';
