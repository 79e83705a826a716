import { GatewayError, type ChatCompletion, type ChatCompletionRequest, type ChatMessage, type ContentPart, type FinishReason, type ToolCall, type Usage } from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import { asRecord, isHttpUrl, num, parseDataUrl, parseToolArguments, partsOf, stopList, systemText, textOf, unsupported } from '../shared/content.js';
import { markStopSequence, sequenceOf, type StopSequence } from '../shared/stop-sequence.js';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';

/**
 * OpenAI chat completions ⇄ Anthropic Messages API (POST /v1/messages, anthropic-version 2023-06-01).
 *
 * Request decisions:
 * - system and developer messages, wherever they are, become the top-level `system` (Anthropic has no system role).
 * - user, assistant and tool messages become alternating user/assistant turns: tool results are `tool_result`
 *   blocks of a user turn, and consecutive turns of the same role are merged (the API wants alternation).
 * - `max_tokens` is required upstream: max_completion_tokens ?? max_tokens ?? 4096.
 * - response_format json_schema → `output_config.format` (structured outputs, GA on current Claude models; the
 *   beta `output_format` moved there). For older models the provider option `structuredOutputs: tool` uses the
 *   classic fallback instead: a forced tool named JSON_TOOL whose input is the answer; the response and stream
 *   translators turn that tool's input back into message content, so the client sees plain JSON text.
 * - json_object has no Anthropic equivalent, nor have n>1, seed, presence/frequency penalties and logprobs: they are
 *   dropped, or refused with a 400 when TranslateOptions.unsupportedParams is 'reject'.
 */

export const ANTHROPIC_VERSION = '2023-06-01';
export const DEFAULT_MAX_TOKENS = 4096;
/** the forced tool of the json_schema fallback (a name a client tool is unlikely to have) */
export const JSON_TOOL = 'gw_json_response';

type ImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
type TextBlock = { type: 'text'; text: string };
type ImageBlock = { type: 'image'; source: ImageSource };
type DocumentBlock = { type: 'document'; source: ImageSource };
type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: unknown };
type ToolResultBlock = { type: 'tool_result'; tool_use_id: string; content: string | Array<TextBlock | ImageBlock> };
export type AnthropicBlock = TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock;
export type AnthropicMessage = { role: 'user' | 'assistant'; content: AnthropicBlock[] };

type AnthropicTool = { name: string; description?: string; input_schema: Record<string, unknown> };
type AnthropicToolChoice = { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string };

export type AnthropicRequest = {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string;
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice & { disable_parallel_tool_use?: boolean };
  output_config?: { format: { type: 'json_schema'; schema: Record<string, unknown> } };
  metadata?: { user_id: string };
};

function imageSource(url: string, param: string): ImageSource {
  const data = parseDataUrl(url);
  if (data) return { type: 'base64', media_type: data.mimeType, data: data.data };
  if (isHttpUrl(url)) return { type: 'url', url };
  throw new GatewayError('INVALID_REQUEST', `${param}: an image must be an http(s) URL or a base64 data URL`, { param });
}

function userBlocks(content: string | ContentPart[], param: string): Array<TextBlock | ImageBlock | DocumentBlock> {
  const out: Array<TextBlock | ImageBlock | DocumentBlock> = [];
  const parts = partsOf(content);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        if (p.text.length) out.push({ type: 'text', text: p.text });
        break;
      case 'refusal':
        if (p.refusal.length) out.push({ type: 'text', text: p.refusal });
        break;
      case 'image_url':
        out.push({ type: 'image', source: imageSource(p.image_url.url, at) });
        break;
      case 'file': {
        const fileData = p.file['file_data'];
        const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
        if (!data) throw new GatewayError('INVALID_REQUEST', `${at}: only files given inline as base64 data URLs are supported by this provider`, { param: at });
        out.push({ type: 'document', source: { type: 'base64', media_type: data.mimeType, data: data.data } });
        break;
      }
      case 'input_audio':
        throw new GatewayError('INVALID_REQUEST', `${at}: audio input is not supported by this provider`, { param: at });
    }
  }
  return out;
}

function toolResultContent(content: string | ContentPart[], param: string): ToolResultBlock['content'] {
  if (typeof content === 'string') return content;
  const blocks: Array<TextBlock | ImageBlock> = [];
  for (const b of userBlocks(content, param)) if (b.type !== 'document') blocks.push(b);
  return blocks;
}

function assistantBlocks(m: Extract<ChatMessage, { role: 'assistant' }>, param: string): AnthropicBlock[] {
  const out: AnthropicBlock[] = [];
  const text = textOf(m.content);
  if (text.length) out.push({ type: 'text', text });
  const calls = m.tool_calls ?? [];
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!;
    out.push({ type: 'tool_use', id: c.id, name: c.function.name, input: parseToolArguments(c.function.arguments, `${param}.tool_calls[${i}].function.arguments`) });
  }
  return out;
}

/** The conversation as alternating turns (same-role neighbours merged; system messages are elsewhere). */
export function toAnthropicMessages(messages: readonly ChatMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage['role'], blocks: AnthropicBlock[]) => {
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
      case 'assistant':
        push('assistant', assistantBlocks(m, param));
        break;
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: toolResultContent(m.content, `${param}.content`) }]);
        break;
    }
  }
  return out;
}

function toolChoice(req: ChatCompletionRequest): AnthropicRequest['tool_choice'] | undefined {
  const c = req.tool_choice;
  let choice: AnthropicToolChoice | undefined;
  if (c === undefined) choice = undefined;
  else if (c === 'auto') choice = { type: 'auto' };
  else if (c === 'none') choice = { type: 'none' };
  else if (c === 'required') choice = { type: 'any' };
  else choice = { type: 'tool', name: c.function.name };
  if (req.parallel_tool_calls === false) {
    if (!choice) return { type: 'auto', disable_parallel_tool_use: true };
    if (choice.type !== 'none') return { ...choice, disable_parallel_tool_use: true };
  }
  return choice;
}

export function toAnthropicRequest(req: ChatCompletionRequest, stream: boolean, provider: ResolvedProvider, ctx: ChatContext, opts: TranslateOptions): AnthropicRequest {
  const mode = opts.unsupportedParams;
  const body: AnthropicRequest = {
    model: ctx.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: toAnthropicMessages(req.messages),
  };
  const system = systemText(req.messages);
  if (system !== null) body.system = system;
  if (stream) body.stream = true;
  if (req.temperature !== null && req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== null && req.top_p !== undefined) body.top_p = req.top_p;
  const stop = stopList(req.stop);
  if (stop) body.stop_sequences = stop;
  if (req.user) body.metadata = { user_id: req.user };
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => {
      const tool: AnthropicTool = { name: t.function.name, input_schema: t.function.parameters ?? { type: 'object', properties: {} } };
      if (t.function.description) tool.description = t.function.description;
      return tool;
    });
    const choice = toolChoice(req);
    if (choice) body.tool_choice = choice;
  }

  const rf = req.response_format;
  if (rf?.type === 'json_schema') {
    const schema = rf.json_schema.schema ?? { type: 'object' };
    if (provider.options['structuredOutputs'] === 'tool') {
      // Fallback for models without structured outputs: force a tool whose input is the answer.
      const tool: AnthropicTool = { name: JSON_TOOL, description: rf.json_schema.description ?? `Respond with a JSON object (${rf.json_schema.name}).`, input_schema: schema };
      body.tools = [...(body.tools ?? []), tool];
      body.tool_choice = { type: 'tool', name: JSON_TOOL };
    } else body.output_config = { format: { type: 'json_schema', schema } };
  } else if (rf?.type === 'json_object') unsupported('response_format', mode, 'json_object is not supported by this provider (use json_schema)');

  if (req.n !== null && req.n !== undefined && req.n > 1) unsupported('n', mode, 'above 1 is not supported by this provider');
  for (const p of ['seed', 'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs'] as const) {
    const v = req[p];
    if (v !== null && v !== undefined && v !== false) unsupported(p, mode);
  }
  return body;
}

export function anthropicHeaders(provider: ResolvedProvider, stream: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
  };
  if (provider.apiKey) h['x-api-key'] = provider.apiKey;
  for (const k in provider.headers) h[k.toLowerCase()] = provider.headers[k] as string;
  return h;
}

export function buildChatRequest(req: ChatCompletionRequest, stream: boolean, provider: ResolvedProvider, ctx: ChatContext, opts: TranslateOptions): UpstreamRequest {
  return {
    method: 'POST',
    url: joinUrl(provider.baseUrl, '/v1/messages'),
    headers: anthropicHeaders(provider, stream),
    body: JSON.stringify(toAnthropicRequest(req, stream, provider, ctx, opts)),
  };
}

/* ---------------- response ---------------- */

export function finishReason(stop: unknown): FinishReason | null {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

/** stop_reason `stop_sequence` names the matched sequence in `stop_sequence` (of the message, or the message_delta). */
export function stopSequence(stop: unknown, sequence: unknown): StopSequence {
  return stop === 'stop_sequence' ? sequenceOf(sequence) : undefined;
}

/**
 * Anthropic `input_tokens` excludes cached input: the prompt is input + cache reads + cache writes, and cache reads
 * are the OpenAI `cached_tokens`.
 */
export function usageOf(u: Record<string, unknown> | undefined, outputTokens?: number): Usage {
  const input = num(u?.['input_tokens']);
  const cacheRead = num(u?.['cache_read_input_tokens']);
  const cacheWrite = num(u?.['cache_creation_input_tokens']);
  const prompt = input + cacheRead + cacheWrite;
  const completion = outputTokens ?? num(u?.['output_tokens']);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cacheRead } };
}

export function completionId(ctx: ChatContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

export function parseChatResponse(body: unknown, ctx: ChatContext): ChatCompletion {
  const b = asRecord(body, 'message');
  const content = b['content'];
  if (!Array.isArray(content)) throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent a message without content');
  let text = '';
  let hasText = false;
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  let jsonAnswer = false;
  for (const raw of content as unknown[]) {
    const block = asRecord(raw, 'content block');
    switch (block['type']) {
      case 'text':
        text += typeof block['text'] === 'string' ? block['text'] : '';
        hasText = true;
        break;
      case 'thinking':
        reasoning += typeof block['thinking'] === 'string' ? block['thinking'] : '';
        break;
      case 'tool_use': {
        const input = JSON.stringify(block['input'] ?? {});
        if (block['name'] === JSON_TOOL) {
          text += input;
          hasText = true;
          jsonAnswer = true;
        } else toolCalls.push({ id: String(block['id']), type: 'function', function: { name: String(block['name']), arguments: input } });
        break;
      }
      default:
        break; // redacted_thinking, server tool blocks: nothing an OpenAI client can use
    }
  }
  let finish = finishReason(b['stop_reason']);
  if (jsonAnswer && finish === 'tool_calls' && toolCalls.length === 0) finish = 'stop';
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: hasText ? text : null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  if (reasoning.length) message.reasoning_content = reasoning;
  return {
    id: completionId(ctx),
    object: 'chat.completion',
    created: ctx.created,
    model: typeof b['model'] === 'string' ? b['model'] : ctx.model,
    choices: [markStopSequence({ index: 0, message, finish_reason: finish }, stopSequence(b['stop_reason'], b['stop_sequence']))],
    usage: usageOf(b['usage'] as Record<string, unknown> | undefined),
  };
}
