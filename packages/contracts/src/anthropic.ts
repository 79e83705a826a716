import { z } from 'zod';

/* ---------------- Anthropic Messages API request (the public wire format of POST /v1/messages) ---------------- */

const CacheControl = z
  .object({ type: z.literal('ephemeral'), ttl: z.string().optional() })
  .nullable()
  .optional();

const ImageSource = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('base64'),
    media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
    data: z.string().min(1),
  }),
  z.object({ type: z.literal('url'), url: z.string().min(1) }),
]);

export const AnthropicTextBlock = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  cache_control: CacheControl,
});
export const AnthropicImageBlock = z.looseObject({
  type: z.literal('image'),
  source: ImageSource,
  cache_control: CacheControl,
});
export const AnthropicToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
  cache_control: CacheControl,
});
export const AnthropicToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [AnthropicTextBlock, AnthropicImageBlock]))])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControl,
});
export const AnthropicDocumentBlock = z.looseObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('base64'),
      media_type: z.literal('application/pdf'),
      data: z.string().min(1),
    }),
    z.object({ type: z.literal('url'), url: z.string().min(1) }),
    z.object({ type: z.literal('text'), media_type: z.literal('text/plain'), data: z.string() }),
  ]),
  cache_control: CacheControl,
});
export const AnthropicThinkingBlock = z.looseObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
});
export const AnthropicRedactedThinkingBlock = z.looseObject({
  type: z.literal('redacted_thinking'),
  data: z.string(),
});

export const AnthropicInputBlock = z.discriminatedUnion('type', [
  AnthropicTextBlock,
  AnthropicImageBlock,
  AnthropicDocumentBlock,
  AnthropicToolUseBlock,
  AnthropicToolResultBlock,
  AnthropicThinkingBlock,
  AnthropicRedactedThinkingBlock,
]);
export type AnthropicInputBlock = z.infer<typeof AnthropicInputBlock>;

export const AnthropicInputMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(AnthropicInputBlock)]),
});
export type AnthropicInputMessage = z.infer<typeof AnthropicInputMessage>;

export const AnthropicTool = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names: a-z, A-Z, 0-9, _ and -, at most 64'),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal('object') }),
  cache_control: CacheControl,
});

export const AnthropicToolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.object({ type: z.literal('none') }),
]);

export const AnthropicThinkingConfig = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('enabled'),
    budget_tokens: z.number().int().min(1024, 'thinking.budget_tokens must be at least 1024'),
    display: z.enum(['summarized', 'omitted']).nullable().optional(),
  }),
  z.object({ type: z.literal('disabled') }),
  z.object({ type: z.literal('adaptive'), display: z.enum(['summarized', 'omitted']).nullable().optional() }),
  z.object({ type: z.literal('between_tools') }).loose(),
]);

export const AnthropicOutputConfig = z.object({
  effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().optional(),
  format: z
    .object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) })
    .nullable()
    .optional(),
});

/** POST /v1/messages body. Unknown top-level fields are refused (the real API answers 400 "Extra inputs are not permitted"). */
export const AnthropicMessagesRequest = z.strictObject({
  model: z.string().min(1, 'model is required'),
  max_tokens: z.number().int().min(1, 'max_tokens must be at least 1'),
  messages: z.array(AnthropicInputMessage).min(1, 'messages must hold at least one message'),
  system: z.union([z.string(), z.array(AnthropicTextBlock)]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z.array(AnthropicTool).optional(),
  tool_choice: AnthropicToolChoice.optional(),
  metadata: z.object({ user_id: z.string().max(256).nullable().optional() }).optional(),
  thinking: AnthropicThinkingConfig.optional(),
  output_config: AnthropicOutputConfig.optional(),
  service_tier: z.enum(['auto', 'standard_only']).optional(),
  // accepted and not carried (hints and Anthropic-only placement): see docs/adr/0008
  cache_control: CacheControl,
  container: z.unknown().optional(),
  diagnostics: z.unknown().optional(),
  inference_geo: z.string().nullable().optional(),
  speed: z.enum(['standard', 'fast']).nullable().optional(),
  user_profile_id: z.string().optional(),
  workspace_id: z.string().optional(),
});
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

/* ---------------- Anthropic Messages API response ---------------- */

export type AnthropicStopReason =
  'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export type AnthropicOutputBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export type AnthropicUsage = {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
};

export type AnthropicMessage = {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicOutputBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
};

/** The Anthropic error body: `{"type":"error","error":{"type","message"}}`. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';
export type AnthropicErrorBody = { type: 'error'; error: { type: AnthropicErrorType; message: string } };
