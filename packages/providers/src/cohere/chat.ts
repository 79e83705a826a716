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
  partsOf,
  stopList,
  textOf,
  unsupported,
} from '../shared/content.js';
import { markStopSequence, type StopSequence } from '../shared/stop-sequence.js';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';

/**
 * OpenAI chat completions ⇄ Cohere v2 chat (POST /v2/chat).
 *
 * Request decisions:
 * - system and developer messages are `system` messages (Cohere keeps them in place); user content is a string or
 *   `text` / `image_url` parts (images as URLs or data URLs, as Cohere takes them); `name` has no Cohere field and
 *   is not sent.
 * - assistant tool calls are Cohere `tool_calls` (same shape); tool results are `tool` messages with
 *   `tool_call_id` and their content as text.
 * - tools are `{type:'function', function:{name, description, parameters}}` as in OpenAI. tool_choice: Cohere has
 *   `REQUIRED` and `NONE` only: auto is the default (nothing sent), required → REQUIRED, none → NONE, a named
 *   function → REQUIRED with only that tool offered (the stated fallback).
 * - response_format: json_object → `{type:'json_object'}`, json_schema → `{type:'json_object', json_schema}` (native).
 * - max_completion_tokens ?? max_tokens → max_tokens; top_p → p; stop → stop_sequences; temperature, seed,
 *   presence/frequency penalties pass through.
 * - no Cohere equivalent (dropped, or a 400 in 'reject' mode): n > 1, user, logprobs/top_logprobs (Cohere's
 *   logprobs have another shape), logit_bias, parallel_tool_calls: false.
 * Response: text items → content, `thinking` items → reasoning_content, tool_calls as they are; finish reasons
 * COMPLETE/STOP_SEQUENCE → stop (STOP_SEQUENCE also marks a stop-sequence match, without the sequence, which Cohere
 * does not name), MAX_TOKENS → length, TOOL_CALL → tool_calls, ERROR_TOXIC → content_filter;
 * usage is the billed units (what Cohere charges; its `tokens` and `cached_tokens` also count its own prompt
 * template, so they would overstate the bill), falling back to `tokens` when billed units are missing.
 */

type TextItem = { type: 'text'; text: string };
type ImageItem = { type: 'image_url'; image_url: { url: string; detail?: string } };
type CohereToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };
export type CohereMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | Array<TextItem | ImageItem> }
  | { role: 'assistant'; content?: string; tool_calls?: CohereToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

type CohereTool = {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
};

export type CohereChatRequest = {
  model: string;
  messages: CohereMessage[];
  stream: boolean;
  tools?: CohereTool[];
  tool_choice?: 'REQUIRED' | 'NONE';
  response_format?: { type: 'json_object'; json_schema?: Record<string, unknown> };
  max_tokens?: number;
  stop_sequences?: string[];
  temperature?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  p?: number;
};

const IGNORED = ['logprobs', 'top_logprobs', 'logit_bias', 'user'] as const;

function userContent(content: string | ContentPart[], param: string): CohereMessage & { role: 'user' } {
  if (typeof content === 'string') return { role: 'user', content };
  const items: Array<TextItem | ImageItem> = [];
  const parts = partsOf(content);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        items.push({ type: 'text', text: p.text });
        break;
      case 'refusal':
        items.push({ type: 'text', text: p.refusal });
        break;
      case 'image_url': {
        const url = p.image_url.url;
        if (!parseDataUrl(url) && !isHttpUrl(url))
          throw new GatewayError(
            'INVALID_REQUEST',
            `${at}: an image must be an http(s) URL or a base64 data URL`,
            { param: at },
          );
        items.push({
          type: 'image_url',
          image_url: p.image_url.detail ? { url, detail: p.image_url.detail } : { url },
        });
        break;
      }
      case 'file':
      case 'input_audio':
        throw new GatewayError(
          'INVALID_REQUEST',
          `${at}: ${p.type} input is not supported by this provider`,
          { param: at },
        );
    }
  }
  return { role: 'user', content: items };
}

export function toCohereMessages(messages: readonly ChatMessage[]): CohereMessage[] {
  const out: CohereMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    switch (m.role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', content: textOf(m.content) });
        break;
      case 'user':
        out.push(userContent(m.content, `messages[${i}].content`));
        break;
      case 'assistant': {
        const a: CohereMessage & { role: 'assistant' } = { role: 'assistant' };
        const text = textOf(m.content);
        if (text.length) a.content = text;
        if (m.tool_calls?.length)
          a.tool_calls = m.tool_calls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.function.name, arguments: c.function.arguments || '{}' },
          }));
        out.push(a);
        break;
      }
      case 'tool':
        out.push({ role: 'tool', tool_call_id: m.tool_call_id, content: textOf(m.content) });
        break;
    }
  }
  return out;
}

export function toCohereRequest(
  req: ChatCompletionRequest,
  stream: boolean,
  ctx: ChatContext,
  opts: TranslateOptions,
): CohereChatRequest {
  const mode = opts.unsupportedParams;
  const body: CohereChatRequest = { model: ctx.model, messages: toCohereMessages(req.messages), stream };
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== null && max !== undefined) body.max_tokens = max;
  if (req.temperature !== null && req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== null && req.top_p !== undefined) body.p = req.top_p;
  if (req.seed !== null && req.seed !== undefined) body.seed = req.seed;
  if (req.presence_penalty !== null && req.presence_penalty !== undefined)
    body.presence_penalty = req.presence_penalty;
  if (req.frequency_penalty !== null && req.frequency_penalty !== undefined)
    body.frequency_penalty = req.frequency_penalty;
  const stop = stopList(req.stop);
  if (stop) body.stop_sequences = stop;
  if (req.tools?.length) {
    let tools = req.tools;
    const c = req.tool_choice;
    if (c === 'required') body.tool_choice = 'REQUIRED';
    else if (c === 'none') body.tool_choice = 'NONE';
    else if (c && typeof c === 'object') {
      tools = tools.filter((t) => t.function.name === c.function.name);
      if (!tools.length)
        throw new GatewayError(
          'INVALID_REQUEST',
          `tool_choice names the function ${c.function.name}, which is not in tools`,
          { param: 'tool_choice' },
        );
      body.tool_choice = 'REQUIRED';
    }
    body.tools = tools.map((t) => {
      const fn: CohereTool['function'] = {
        name: t.function.name,
        parameters: t.function.parameters ?? { type: 'object', properties: {} },
      };
      if (t.function.description) fn.description = t.function.description;
      return { type: 'function', function: fn };
    });
    if (req.parallel_tool_calls === false)
      unsupported('parallel_tool_calls', mode, 'false is not supported by this provider');
  }
  const rf = req.response_format;
  if (rf?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (rf?.type === 'json_schema')
    body.response_format = { type: 'json_object', json_schema: rf.json_schema.schema ?? { type: 'object' } };
  if (req.n !== null && req.n !== undefined && req.n > 1)
    unsupported('n', mode, 'above 1 is not supported by this provider');
  const loose = req as Record<string, unknown>;
  for (const p of IGNORED) {
    const v = loose[p];
    if (v !== null && v !== undefined && v !== false) unsupported(p, mode);
  }
  return body;
}

export function cohereHeaders(provider: ResolvedProvider, accept: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept };
  if (provider.apiKey) h['authorization'] = `Bearer ${provider.apiKey}`;
  for (const k in provider.headers) h[k.toLowerCase()] = provider.headers[k] as string;
  return h;
}

export function buildChatRequest(
  req: ChatCompletionRequest,
  stream: boolean,
  provider: ResolvedProvider,
  ctx: ChatContext,
  opts: TranslateOptions,
): UpstreamRequest {
  return {
    method: 'POST',
    url: joinUrl(provider.baseUrl, '/v2/chat'),
    headers: cohereHeaders(provider, stream ? 'text/event-stream' : 'application/json'),
    body: JSON.stringify(toCohereRequest(req, stream, ctx, opts)),
  };
}

/* ---------------- response ---------------- */

/** STOP_SEQUENCE says a stop sequence matched, not which one (Cohere's answer has no field for it). */
export function stopSequence(reason: unknown): StopSequence {
  return reason === 'STOP_SEQUENCE' ? null : undefined;
}

export function finishReason(reason: unknown): FinishReason | null {
  switch (reason) {
    case 'COMPLETE':
    case 'STOP_SEQUENCE':
      return 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    case 'ERROR_TOXIC':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

export function usageOf(raw: unknown): Usage {
  const u = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const billed = u['billed_units'] as Record<string, unknown> | undefined;
  const tokens = u['tokens'] as Record<string, unknown> | undefined;
  const src =
    billed && (typeof billed['input_tokens'] === 'number' || typeof billed['output_tokens'] === 'number')
      ? billed
      : tokens;
  const prompt = num(src?.['input_tokens']);
  const completion = num(src?.['output_tokens']);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function completionId(ctx: ChatContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

/** A tool call's arguments as OpenAI wants them: a JSON object text (Cohere sends "null" for a tool without parameters). */
export function argumentsText(args: unknown): string {
  if (typeof args !== 'string' || args.trim() === '' || args.trim() === 'null') return '{}';
  return args;
}

export function parseChatResponse(body: unknown, ctx: ChatContext): ChatCompletion {
  const b = asRecord(body, 'chat answer');
  const msg = asRecord(b['message'], 'chat answer message');
  let text: string | null = null;
  let reasoning = '';
  const content = msg['content'];
  if (Array.isArray(content)) {
    for (const raw of content as unknown[]) {
      const item = asRecord(raw, 'content item');
      if (item['type'] === 'text' && typeof item['text'] === 'string') text = (text ?? '') + item['text'];
      else if (item['type'] === 'thinking' && typeof item['thinking'] === 'string')
        reasoning += item['thinking'];
    }
  }
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(msg['tool_calls'])) {
    for (const raw of msg['tool_calls'] as unknown[]) {
      const c = asRecord(raw, 'tool call');
      const fn = asRecord(c['function'], 'tool call function');
      toolCalls.push({
        id: String(c['id']),
        type: 'function',
        function: { name: String(fn['name']), arguments: argumentsText(fn['arguments']) },
      });
    }
  }
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text };
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (reasoning.length) message.reasoning_content = reasoning;
  return {
    id: completionId(ctx),
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [markStopSequence({ index: 0, message, finish_reason: finishReason(b['finish_reason']) }, stopSequence(b['finish_reason']))],
    usage: usageOf(b['usage']),
  };
}
