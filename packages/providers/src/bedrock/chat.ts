import {
  GatewayError,
  type ChatCompletion,
  type ChatCompletionRequest,
  type ChatMessage,
  type ContentPart,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import {
  asRecord,
  isHttpUrl,
  num,
  parseDataUrl,
  parseToolArguments,
  partsOf,
  stopList,
  textOf,
  unsupported,
} from '../shared/content.js';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';
import { markStopSequence } from '../shared/stop-sequence.js';
import { authorizedHeaders } from './auth.js';
import { bedrockStopSequence, STOP_SEQUENCE_PATHS } from './stop-sequence.js';

/**
 * OpenAI chat completions ⇄ Bedrock Converse (`POST /model/{modelId}/converse`) and ConverseStream
 * (`/converse-stream`, AWS event-stream framing), signed with SigV4 over the final body.
 *
 * Request decisions:
 * - system and developer messages → `system` text blocks, in order; user/assistant/tool messages → alternating
 *   user/assistant turns (same-role neighbours merged; tool results are `toolResult` blocks of a user turn).
 * - images must be bytes: data URLs → `image.source.bytes` (png, jpeg, gif, webp). The executor fetches http(s)
 *   URLs before this runs (adapter.needsImageBytes); a URL that still reaches here is a 400 naming the part.
 *   Inline files (base64 data URLs) → `document` blocks.
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

type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';
type TextBlock = { text: string };
type ImageBlock = { image: { format: ImageFormat; source: { bytes: string } } };
type DocumentBlock = { document: { format: string; name: string; source: { bytes: string } } };
type ToolUseBlock = { toolUse: { toolUseId: string; name: string; input: unknown } };
type ToolResultBlock = { toolResult: { toolUseId: string; content: Array<TextBlock | ImageBlock> } };
export type BedrockBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock;
export type BedrockMessage = { role: 'user' | 'assistant'; content: BedrockBlock[] };
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

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const DOCUMENT_FORMATS: Record<string, string> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

function imageBlock(url: string, param: string): ImageBlock {
  const data = parseDataUrl(url);
  if (!data) {
    const why = isHttpUrl(url)
      ? 'the image was not fetched (this provider takes image bytes only)'
      : 'an image must be an http(s) URL or a base64 data URL';
    throw new GatewayError('INVALID_REQUEST', `${param}: ${why}`, { param });
  }
  const format = IMAGE_FORMATS[data.mimeType];
  if (!format)
    throw new GatewayError(
      'INVALID_REQUEST',
      `${param}: image type ${data.mimeType} is not supported by this provider (png, jpeg, gif, webp)`,
      { param },
    );
  return { image: { format, source: { bytes: data.data } } };
}

/** Bedrock document names: letters, digits, spaces, hyphens, parentheses and brackets. */
function documentName(file: Record<string, unknown>, n: number): string {
  const raw = typeof file['filename'] === 'string' ? file['filename'].replace(/\.[^.]*$/, '') : '';
  const clean = raw
    .replace(/[^A-Za-z0-9 \-()[\]]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean || `document ${n}`;
}

function userBlocks(
  content: string | ContentPart[],
  param: string,
): Array<TextBlock | ImageBlock | DocumentBlock> {
  const out: Array<TextBlock | ImageBlock | DocumentBlock> = [];
  const parts = partsOf(content);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        if (p.text.length) out.push({ text: p.text });
        break;
      case 'refusal':
        if (p.refusal.length) out.push({ text: p.refusal });
        break;
      case 'image_url':
        out.push(imageBlock(p.image_url.url, at));
        break;
      case 'file': {
        const fileData = p.file['file_data'];
        const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
        const format = data ? DOCUMENT_FORMATS[data.mimeType] : undefined;
        if (!data || !format)
          throw new GatewayError(
            'INVALID_REQUEST',
            `${at}: only documents given inline as base64 data URLs (pdf, csv, doc, docx, xls, xlsx, html, txt, md) are supported by this provider`,
            { param: at },
          );
        out.push({ document: { format, name: documentName(p.file, i + 1), source: { bytes: data.data } } });
        break;
      }
      case 'input_audio':
        throw new GatewayError('INVALID_REQUEST', `${at}: audio input is not supported by this provider`, {
          param: at,
        });
    }
  }
  return out;
}

function toolResultContent(content: string | ContentPart[], param: string): Array<TextBlock | ImageBlock> {
  const out: Array<TextBlock | ImageBlock> = [];
  for (const b of userBlocks(content, param)) if (!('document' in b)) out.push(b);
  // Bedrock refuses an empty tool result; an empty answer is still an answer
  return out.length ? out : [{ text: '' }];
}

export function toBedrockMessages(messages: readonly ChatMessage[]): BedrockMessage[] {
  const out: BedrockMessage[] = [];
  const push = (role: BedrockMessage['role'], blocks: BedrockBlock[]) => {
    if (!blocks.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        break;
      case 'user':
        push('user', userBlocks(m.content, `${param}.content`));
        break;
      case 'assistant': {
        const blocks: BedrockBlock[] = [];
        const text = textOf(m.content);
        if (text.trim().length) blocks.push({ text });
        const calls = m.tool_calls ?? [];
        for (let j = 0; j < calls.length; j++) {
          const c = calls[j]!;
          blocks.push({
            toolUse: {
              toolUseId: c.id,
              name: c.function.name,
              input: parseToolArguments(c.function.arguments, `${param}.tool_calls[${j}].function.arguments`),
            },
          });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          {
            toolResult: {
              toolUseId: m.tool_call_id,
              content: toolResultContent(m.content, `${param}.content`),
            },
          },
        ]);
        break;
    }
  }
  return out;
}

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
