import {
  GatewayError,
  type ChatCompletion,
  type ChatCompletionRequest,
  type ChatMessage,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import {
  asRecord,
  num,
  stopList,
  textOf,
  unsupported,
} from '../shared/content.js';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';
import { markStopSequence } from '../shared/stop-sequence.js';
import { authorizedHeaders } from './auth.js';
import { toBedrockMessages, type BedrockMessage, type TextBlock } from './messages.js';
import { bedrockStopSequence, STOP_SEQUENCE_PATHS } from './stop-sequence.js';

/**
 * OpenAI chat completions ⇄ Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream
 * (`/converse-stream`, AWS event-stream framing), signed with SigV4 over the final body.
 *
 * Request decisions:
 * - system and developer messages → `system` text blocks, in order; the other messages → Converse turns, images
 *   and files as bytes (messages.ts).
 * - tools → `toolConfig.tools[].toolSpec`; tool_choice auto → `{auto}`, required → `{any}`, named → `{tool}`.
 *   Bedrock has no `none`: the tools are left out, so the model cannot call them. When the conversation already
 *   holds tool calls (Bedrock then requires toolConfig), the tools are sent with `auto` and `none` is an unsupported
 *   parameter (dropped, or a 400 under 'reject').
 * - response_format json_schema (and json_object, with a plain object schema) → the stated fallback: a forced tool
 *   named JSON_TOOL whose input schema is the wanted schema; the response and stream translators turn that tool's
 *   input back into message content, so the client sees the JSON document as text.
 * - max tokens, temperature, top_p, stop → `inferenceConfig` (stop also asks for the matched sequence:
 *   stop-sequence.ts); a `top_k` the client sent (a non-OpenAI extra) → `additionalModelRequestFields.top_k`.
 * - n > 1, seed, presence/frequency penalties, logprobs, parallel_tool_calls false and user have no Converse
 *   equivalent: dropped, or a 400 under unsupportedParams 'reject'.
 */

export const JSON_TOOL = 'gw_json_response';

type ToolSpec = {
  toolSpec: { name: string; description?: string; inputSchema: { json: Record<string, unknown> } };
};
type ToolChoiceBlock =
  { auto: Record<string, never> } | { any: Record<string, never> } | { tool: { name: string } };

export type ConverseRequest = {
  messages: BedrockMessage[];
  system?: TextBlock[];
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: { tools: ToolSpec[]; toolChoice?: ToolChoiceBlock };
  additionalModelRequestFields?: Record<string, unknown>;
  additionalModelResponseFieldPaths?: string[];
};

function hasToolBlocks(messages: readonly ChatMessage[]): boolean {
  return messages.some(
    (m) => m.role === 'tool' || (m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0),
  );
}

function toolSpec(
  name: string,
  description: string | undefined,
  schema: Record<string, unknown> | undefined,
): ToolSpec {
  const spec: ToolSpec['toolSpec'] = {
    name,
    inputSchema: { json: schema ?? { type: 'object', properties: {} } },
  };
  if (description) spec.description = description;
  return { toolSpec: spec };
}

function toolConfig(
  req: ChatCompletionRequest,
  mode: TranslateOptions['unsupportedParams'],
): ConverseRequest['toolConfig'] | undefined {
  if (!req.tools?.length) return undefined;
  const tools = req.tools.map((t) =>
    toolSpec(t.function.name, t.function.description, t.function.parameters),
  );
  const c = req.tool_choice;
  if (c === 'none') {
    if (!hasToolBlocks(req.messages)) return undefined;
    unsupported(
      'tool_choice',
      mode,
      '`none` is not supported by this provider when the conversation holds tool calls',
    );
    return { tools };
  }
  if (c === 'auto') return { tools, toolChoice: { auto: {} } };
  if (c === 'required') return { tools, toolChoice: { any: {} } };
  if (c) return { tools, toolChoice: { tool: { name: c.function.name } } };
  return { tools };
}

export function toConverseRequest(req: ChatCompletionRequest, opts: TranslateOptions): ConverseRequest {
  const mode = opts.unsupportedParams;
  const body: ConverseRequest = { messages: toBedrockMessages(req.messages) };
  const system: TextBlock[] = [];
  for (const m of req.messages) {
    if (m.role !== 'system' && m.role !== 'developer') continue;
    const text = textOf(m.content);
    if (text.trim().length) system.push({ text });
  }
  if (system.length) body.system = system;

  const inference: NonNullable<ConverseRequest['inferenceConfig']> = {};
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== null && max !== undefined) inference.maxTokens = max;
  if (req.temperature !== null && req.temperature !== undefined) inference.temperature = req.temperature;
  if (req.top_p !== null && req.top_p !== undefined) inference.topP = req.top_p;
  const stop = stopList(req.stop);
  if (stop) {
    inference.stopSequences = stop;
    body.additionalModelResponseFieldPaths = [...STOP_SEQUENCE_PATHS]; // which one matched (Anthropic models)
  }
  if (Object.keys(inference).length) body.inferenceConfig = inference;

  const tc = toolConfig(req, mode);
  if (tc) body.toolConfig = tc;
  const rf = req.response_format;
  if (rf?.type === 'json_schema' || rf?.type === 'json_object') {
    const schema =
      rf.type === 'json_schema' ? (rf.json_schema.schema ?? { type: 'object' }) : { type: 'object' };
    const description =
      rf.type === 'json_schema'
        ? (rf.json_schema.description ?? `Respond with a JSON object (${rf.json_schema.name}).`)
        : 'Respond with a JSON object.';
    body.toolConfig = {
      tools: [...(body.toolConfig?.tools ?? []), toolSpec(JSON_TOOL, description, schema)],
      toolChoice: { tool: { name: JSON_TOOL } },
    };
  }

  const topK = (req as Record<string, unknown>)['top_k'];
  if (typeof topK === 'number') body.additionalModelRequestFields = { top_k: topK };

  if (req.n !== null && req.n !== undefined && req.n > 1)
    unsupported('n', mode, 'above 1 is not supported by this provider');
  for (const p of [
    'seed',
    'presence_penalty',
    'frequency_penalty',
    'logprobs',
    'top_logprobs',
    'user',
  ] as const) {
    const v = req[p];
    if (v !== null && v !== undefined && v !== false) unsupported(p, mode);
  }
  if (req.parallel_tool_calls === false)
    unsupported('parallel_tool_calls', mode, '`false` is not supported by this provider');
  return body;
}

/** `/model/{modelId}/converse`: the id (an ARN may hold `:` and `/`) is one encoded path segment. */
export function modelPath(model: string, action: string): string {
  return `/model/${encodeURIComponent(model)}/${action}`;
}

export function buildChatRequest(
  req: ChatCompletionRequest,
  stream: boolean,
  provider: ResolvedProvider,
  ctx: ChatContext,
  opts: TranslateOptions,
): UpstreamRequest {
  const url = joinUrl(provider.baseUrl, modelPath(ctx.model, stream ? 'converse-stream' : 'converse'));
  const body = JSON.stringify(toConverseRequest(req, opts));
  return {
    method: 'POST',
    url,
    headers: authorizedHeaders(
      provider,
      'POST',
      url,
      body,
      stream ? 'application/vnd.amazon.eventstream' : 'application/json',
    ),
    body,
  };
}

/* ---------------- response ---------------- */

export function finishReason(stop: unknown): FinishReason | null {
  switch (stop) {
    case undefined:
    case null:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      return 'stop'; // end_turn, stop_sequence, and reasons added later
  }
}

/**
 * Converse usage → OpenAI usage. As with Anthropic's models, `inputTokens` leaves out the tokens read from or
 * written to the prompt cache: the prompt is all three, and cache reads are the OpenAI `cached_tokens`.
 */
export function usageOf(u: Record<string, unknown>): Usage {
  const cacheRead = num(u['cacheReadInputTokens']);
  const prompt = num(u['inputTokens']) + cacheRead + num(u['cacheWriteInputTokens']);
  const completion = num(u['outputTokens']);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

export function completionId(ctx: ChatContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

export function parseChatResponse(body: unknown, ctx: ChatContext): ChatCompletion {
  const b = asRecord(body, 'Converse answer');
  const message = (b['output'] as Record<string, unknown> | undefined)?.['message'] as
    Record<string, unknown> | undefined;
  const content = message?.['content'];
  if (!Array.isArray(content))
    throw new GatewayError(
      'PROVIDER_ERROR',
      'the upstream provider sent a Converse answer without output.message.content',
    );
  let text = '';
  let hasText = false;
  let reasoning = '';
  let jsonAnswer = false;
  const toolCalls: ToolCall[] = [];
  for (const raw of content as unknown[]) {
    const block = asRecord(raw, 'content block');
    if (typeof block['text'] === 'string') {
      text += block['text'];
      hasText = true;
    } else if (block['toolUse'] && typeof block['toolUse'] === 'object') {
      const t = block['toolUse'] as Record<string, unknown>;
      const input = JSON.stringify(t['input'] ?? {});
      if (t['name'] === JSON_TOOL) {
        text += input;
        hasText = true;
        jsonAnswer = true;
      } else
        toolCalls.push({
          id: String(t['toolUseId']),
          type: 'function',
          function: { name: String(t['name']), arguments: input },
        });
    } else if (block['reasoningContent'] && typeof block['reasoningContent'] === 'object') {
      const r = (block['reasoningContent'] as Record<string, unknown>)['reasoningText'] as
        Record<string, unknown> | undefined;
      if (typeof r?.['text'] === 'string') reasoning += r['text'];
    }
    // citationsContent, guardContent, redacted reasoning: nothing an OpenAI client can use
  }
  let finish = finishReason(b['stopReason']);
  if (jsonAnswer && finish === 'tool_calls' && toolCalls.length === 0) finish = 'stop';
  const msg: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: hasText ? text : null,
  };
  if (toolCalls.length) msg.tool_calls = toolCalls;
  if (reasoning.length) msg.reasoning_content = reasoning;
  const completion: ChatCompletion = {
    id: completionId(ctx),
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [markStopSequence({ index: 0, message: msg, finish_reason: finish }, bedrockStopSequence(b['stopReason'], b['additionalModelResponseFields']))],
  };
  const u = b['usage'];
  if (u && typeof u === 'object') completion.usage = usageOf(u as Record<string, unknown>);
  return completion;
}
