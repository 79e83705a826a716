import { z } from 'zod';
import { PriceConfig, ProviderType } from './config.js';

/* ---------------- OpenAI chat completions request (the public wire format) ---------------- */

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const InputAudioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.string() }),
});
const FilePart = z.looseObject({ type: z.literal('file'), file: z.looseObject({}) });
const RefusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
export const ContentPart = z.discriminatedUnion('type', [TextPart, ImagePart, InputAudioPart, FilePart, RefusalPart]);
export type ContentPart = z.infer<typeof ContentPart>;

const Content = z.union([z.string(), z.array(ContentPart)]);

export const ToolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content: Content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content: Content, name: z.string().optional() }),
  z.looseObject({ role: z.literal('user'), content: Content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal('assistant'),
    content: Content.nullable().optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
    refusal: z.string().nullable().optional(),
    reasoning_content: z.string().nullable().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content: Content, tool_call_id: z.string() }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

export const FunctionTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names: a-z, A-Z, 0-9, _ and -, at most 64'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});
export type FunctionTool = z.infer<typeof FunctionTool>;

export const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string(),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

export const ChatCompletionRequest = z.looseObject({
  model: z.string().min(1, 'model is required'),
  messages: z.array(ChatMessage).min(1, 'messages must hold at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
  tools: z.array(FunctionTool).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormat.optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/* ---------------- OpenAI chat completions response ---------------- */

export const Usage = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().int().optional() }).nullable().optional(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().int().optional() }).nullable().optional(),
});
export type Usage = z.infer<typeof Usage>;

/**
 * The choice field (of a completion, and of a stream's finish chunk) that says a stop sequence ended the choice, and
 * which one if the upstream said: gateway-internal, named so that no upstream's own field is taken for it.
 */
export const STOP_SEQUENCE_FIELD = 'gateway_stop_sequence';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export type ChatCompletion = {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string | null;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal?: string | null;
      tool_calls?: ToolCall[];
      reasoning_content?: string | null;
    };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
    /**
     * Gateway-internal (docs/adr/0008), never sent to OpenAI clients: the OpenAI format strips it. Present only when
     * a stop sequence ended the choice (finish_reason `stop`): the matched sequence, or null when the upstream said a
     * stop sequence matched without saying which. /v1/messages reports it as stop_reason `stop_sequence`.
     */
    [STOP_SEQUENCE_FIELD]?: string | null;
  }>;
  usage?: Usage;
};

export type ChatCompletionChunk = {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string | null;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        type?: 'function';
        function?: { name?: string; arguments?: string };
      }>;
    };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
    /** As on ChatCompletion's choice, on the finish chunk (finish_reason `stop`) of the choice. */
    [STOP_SEQUENCE_FIELD]?: string | null;
  }>;
  usage?: Usage | null;
};

/* ---------------- what travels with a request between services (NATS headers) ---------------- */

export const RequestMeta = z.object({
  requestId: z.string(),
  /** the model name the client asked for */
  model: z.string(),
  stream: z.boolean(),
  includeUsage: z.boolean().default(false),
  orgId: z.string().nullable().default(null),
  teamId: z.string().nullable(),
  keyId: z.string().nullable(),
  /** the `user` field of the request, for attribution */
  endUser: z.string().nullable().default(null),
  tags: z.record(z.string(), z.string()).default({}),
  /** models the key may use; null = all */
  allowedModels: z.array(z.string()).nullable().default(null),
  /** epoch ms after which nobody waits for the answer */
  deadlineAt: z.number(),
  receivedAt: z.number(),
  /** the request's cache identity, so the executor's usage event can say "miss" for it */
  cacheStatus: z.enum(['hit', 'miss', 'bypass']).default('bypass'),
  /** the request's input images, counted once by the ingress (input-images.ts): billed at the target's perImage */
  inputImages: z.number().int().nonnegative().default(0),
  /** the id its budget and limits are held under when not its request id (a prefetched admission, ADR 0019) */
  admissionId: z.string().min(1).optional(),
});
export type RequestMeta = z.infer<typeof RequestMeta>;
export type RequestMetaInput = z.input<typeof RequestMeta>;

export const PlanTarget = z.object({
  providerId: z.string(),
  providerType: ProviderType,
  model: z.string(),
  baseUrl: z.string().nullable(),
  timeoutMs: z.number().int().positive(),
  price: PriceConfig.nullable(),
  /** the router's hedge delay for this target (its recent p95), when the model hedges */
  hedgeAfterMs: z.number().int().nonnegative().optional(),
});
export type PlanTarget = z.infer<typeof PlanTarget>;

/** How the executor walks a plan: retries, timeouts, hedging. Filled by the router from the routing config. */
export const PlanPolicy = z.object({
  maxRetries: z.number().int().nonnegative(),
  baseDelayMs: z.number().int().nonnegative(),
  maxDelayMs: z.number().int().nonnegative(),
  retryAfterCapMs: z.number().int().nonnegative(),
  totalTimeoutMs: z.number().int().positive().nullable(),
  ttftTimeoutMs: z.number().int().positive().nullable(),
  /** hedge non-stream requests: the next target starts after the running one's hedgeAfterMs */
  hedge: z.boolean(),
});
export type PlanPolicy = z.infer<typeof PlanPolicy>;

/** A target the router left out of the plan, and why (circuit open, window too small, policy): part of the story. */
export const SkippedTarget = z.object({ providerId: z.string(), model: z.string(), reason: z.string() });
export type SkippedTarget = z.infer<typeof SkippedTarget>;

export const Plan = z.object({
  model: z.string(),
  targets: z.array(PlanTarget).min(1),
  /** the routing strategy that ordered the targets */
  strategy: z.string().default('fallback'),
  policy: PlanPolicy.optional(),
  skipped: z.array(SkippedTarget).default([]),
});
export type Plan = z.infer<typeof Plan>;

/** The answer's metadata: sent with the `start` and `response` frames. */
export const ResultMeta = z.object({
  providerId: z.string(),
  model: z.string(),
  attempts: z.array(
    z.object({ providerId: z.string(), model: z.string(), ok: z.boolean(), error: z.string().optional(), latencyMs: z.number() }),
  ),
  /** the routing story in one line, for the x-gateway-route response header */
  route: z.string().optional(),
});
export type ResultMeta = z.infer<typeof ResultMeta>;

/* ---------------- usage (durable, JetStream) ---------------- */

export const UsageEvent = z.object({
  requestId: z.string(),
  occurredAt: z.number(),
  orgId: z.string().nullable(),
  teamId: z.string().nullable(),
  keyId: z.string().nullable(),
  endUser: z.string().nullable(),
  requestedModel: z.string(),
  providerId: z.string().nullable(),
  model: z.string().nullable(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedInputTokens: z.number().int().nonnegative().default(0),
  /** the request's input images (input-images.ts), on every event of the request; absent (older events) = 0 */
  inputImages: z.number().int().nonnegative().default(0),
  /** billing settles the holds under this id when set (a prefetched admission, ADR 0019), else under requestId */
  admissionId: z.string().min(1).optional(),
  /** exact cost in nano-USD, as a decimal string (bigint) */
  costNanoUsd: z.string().regex(/^\d+$/),
  latencyMs: z.number().nonnegative(),
  cacheStatus: z.enum(['hit', 'miss', 'bypass']),
  status: z.enum(['ok', 'error', 'cancelled']),
  errorCode: z.string().nullable().default(null),
  /** tokens were counted by the gateway, not reported by the provider (cut stream, client gone) */
  usageEstimated: z.boolean().default(false),
  stream: z.boolean(),
  tags: z.record(z.string(), z.string()).default({}),
  attempts: z.number().int().nonnegative().default(0),
  /** live request or a batch job's line */
  mode: z.enum(['live', 'batch']).default('live'),
  /** the routing story: every target tried, in order, and what happened */
  routing: z
    .object({
      strategy: z.string(),
      attempts: z.array(
        z.object({
          providerId: z.string(),
          model: z.string(),
          outcome: z.enum(['ok', 'failed', 'skipped', 'cancelled', 'hedge_lost']),
          error: z.string().optional(),
          latencyMs: z.number().nonnegative(),
        }),
      ),
    })
    .nullable()
    .default(null),
});
export type UsageEvent = z.infer<typeof UsageEvent>;
export type UsageEventInput = z.input<typeof UsageEvent>;
