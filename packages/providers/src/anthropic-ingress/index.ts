/**
 * The Anthropic Messages API as a client-facing format (POST /v1/messages at the ingress): requests in, answers and
 * streams out, to and from the internal OpenAI chat format. Not a provider adapter: the upstream may be any provider.
 */
export { fromAnthropicRequest } from './request.js';
export { anthropicUsage, matchedStopSequence, messageId, stopReason, toAnthropicMessage, toolInput } from './response.js';
export { AnthropicStreamEncoder, type AnthropicEvent } from './stream.js';
