import {
  ChatCompletionRequest,
  GatewayError,
  type AnthropicInputBlock,
  type AnthropicInputMessage,
  type AnthropicMessagesRequest,
  type ChatMessage,
  type ContentPart,
  type ToolCall,
} from '@gw/contracts';
import { unsupported } from '../shared/content.js';
import type { TranslateOptions } from '../types.js';

/**
 * Anthropic Messages request (POST /v1/messages, already validated against AnthropicMessagesRequest) → the internal
 * OpenAI chat completions request, so that it takes the same path as any chat request (moderation, cache, router, any
 * provider's adapter). Decisions (docs/adr/0008):
 *
 * - `system` (string or text blocks) → one leading system message (blocks → text parts).
 * - A user turn's `tool_result` blocks → `tool` messages, placed before the rest of that turn (where Anthropic puts
 *   them); `is_error: true` is kept as an `Error: ` prefix of the result text (OpenAI has no such flag).
 * - An assistant turn's `text` → content, `tool_use` → tool_calls (input as JSON arguments); `thinking` and
 *   `redacted_thinking` blocks are dropped (their signatures are Anthropic's alone, and Anthropic itself strips
 *   earlier turns' thinking from the context).
 * - images: base64 → a data URL, url → the URL; `cache_control` is dropped (caching hints).
 * - tool_choice auto/any/tool/none → auto/required/named/none; `disable_parallel_tool_use` → parallel_tool_calls false.
 * - thinking (`enabled` with a budget, `adaptive`, `output_config.effort`) → `reasoning_effort` (reasoningEffort).
 * - `output_config.format` (json_schema) → `response_format` json_schema.
 * - documents: base64 PDF → a `file` part (data URL), plain text → a text part; by URL → 400.
 * - `metadata.user_id` → `user`; `stop_sequences` → `stop` (at most 4, OpenAI's limit).
 * - `top_k` has no OpenAI equivalent: dropped, or refused with a 400 when `unsupportedParams` is `reject`;
 *   `service_tier`, `speed`, `inference_geo`, `container`, top-level `cache_control` and the like are dropped.
 * - A stream asks for usage (`stream_options.include_usage`): Anthropic's message_delta carries the token counts.
 */
export function fromAnthropicRequest(
  req: AnthropicMessagesRequest,
  opts: TranslateOptions,
): ChatCompletionRequest {
  const messages: ChatMessage[] = [];
  if (req.system !== undefined) {
    if (typeof req.system === 'string') {
      if (req.system.length) messages.push({ role: 'system', content: req.system });
    } else if (req.system.length) {
      messages.push({
        role: 'system',
        content: req.system.map((b) => ({ type: 'text' as const, text: b.text })),
      });
    }
  }
  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i]!;
    if (m.role === 'user') messages.push(...userMessages(m, i));
    else messages.push(assistantMessage(m, i));
  }

  const out: ChatCompletionRequest = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined)
    unsupported('top_k', opts.unsupportedParams, 'is not supported by this gateway (no OpenAI equivalent)');
  if (req.stop_sequences?.length) {
    if (req.stop_sequences.length > 4) {
      throw new GatewayError('INVALID_REQUEST', 'stop_sequences: at most 4 are supported by this gateway', {
        param: 'stop_sequences',
      });
    }
    out.stop = req.stop_sequences;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => {
      const fn: { name: string; description?: string; parameters: Record<string, unknown> } = {
        name: t.name,
        parameters: t.input_schema,
      };
      if (t.description !== undefined) fn.description = t.description;
      return { type: 'function' as const, function: fn };
    });
  }
  const choice = req.tool_choice;
  if (choice) {
    switch (choice.type) {
      case 'auto':
        out.tool_choice = 'auto';
        break;
      case 'any':
        out.tool_choice = 'required';
        break;
      case 'tool':
        out.tool_choice = { type: 'function', function: { name: choice.name } };
        break;
      case 'none':
        out.tool_choice = 'none';
        break;
    }
    if (choice.type !== 'none' && choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
    if (!out.tools)
      throw new GatewayError('INVALID_REQUEST', 'tool_choice: tool_choice may only be given with tools', {
        param: 'tool_choice',
      });
  }
  const effort = reasoningEffort(req);
  if (effort) out['reasoning_effort'] = effort;
  const format = req.output_config?.format;
  if (format)
    out.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: format.schema } };

  // the translation is checked against the internal schema, so a request the path cannot carry is a 400 here
  const checked = ChatCompletionRequest.safeParse(out);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new GatewayError(
      'INVALID_REQUEST',
      `this request cannot be carried by the gateway: ${issue?.message ?? 'invalid'}`,
    );
  }
  return checked.data;
}

/**
 * The thinking the client asked for, as OpenAI's `reasoning_effort`: `output_config.effort` when given (xhigh and
 * max are `high`), else from an `enabled` budget (low < 4096 ≤ medium < 16384 ≤ high), else `medium` for adaptive
 * thinking; none when thinking is disabled or not asked for.
 */
function reasoningEffort(req: AnthropicMessagesRequest): 'low' | 'medium' | 'high' | null {
  const t = req.thinking;
  if (t?.type === 'disabled') return null;
  if (t?.type === 'enabled' && t.budget_tokens >= req.max_tokens) {
    throw new GatewayError('INVALID_REQUEST', 'thinking.budget_tokens: must be less than max_tokens', {
      param: 'thinking.budget_tokens',
    });
  }
  const e = req.output_config?.effort;
  if (e) return e === 'low' || e === 'medium' ? e : 'high';
  if (!t) return null;
  if (t.type === 'enabled')
    return t.budget_tokens < 4096 ? 'low' : t.budget_tokens < 16384 ? 'medium' : 'high';
  return 'medium';
}

function documentPart(block: Extract<AnthropicInputBlock, { type: 'document' }>, at: string): ContentPart {
  const s = block.source;
  switch (s.type) {
    case 'base64':
      return { type: 'file', file: { file_data: `data:${s.media_type};base64,${s.data}` } };
    case 'text':
      return { type: 'text', text: s.data };
    case 'url':
      throw new GatewayError(
        'INVALID_REQUEST',
        `${at}: documents by URL are not supported by this gateway (send them as base64)`,
        { param: at },
      );
  }
}

function imagePart(block: Extract<AnthropicInputBlock, { type: 'image' }>): ContentPart {
  const s = block.source;
  const url = s.type === 'base64' ? `data:${s.media_type};base64,${s.data}` : s.url;
  return { type: 'image_url', image_url: { url } };
}

function notHere(block: AnthropicInputBlock, role: string, at: string): GatewayError {
  return new GatewayError(
    'INVALID_REQUEST',
    `${at}: a ${block.type} block may not appear in a ${role} message`,
    { param: at },
  );
}

function userMessages(m: AnthropicInputMessage, i: number): ChatMessage[] {
  if (typeof m.content === 'string') return [{ role: 'user', content: m.content }];
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (let j = 0; j < m.content.length; j++) {
    const b = m.content[j]!;
    const at = `messages.${i}.content.${j}`;
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', text: b.text });
        break;
      case 'image':
        parts.push(imagePart(b));
        break;
      case 'document':
        parts.push(documentPart(b, at));
        break;
      case 'tool_result':
        tools.push({ role: 'tool', tool_call_id: b.tool_use_id, content: toolResultContent(b) });
        break;
      case 'tool_use':
      case 'thinking':
      case 'redacted_thinking':
        throw notHere(b, 'user', at);
    }
  }
  if (parts.length)
    tools.push({
      role: 'user',
      content: parts.length === 1 && parts[0]!.type === 'text' ? parts[0]!.text : parts,
    });
  if (!tools.length)
    throw new GatewayError('INVALID_REQUEST', `messages.${i}.content: a user message must not be empty`, {
      param: `messages.${i}.content`,
    });
  return tools;
}

function toolResultContent(b: Extract<AnthropicInputBlock, { type: 'tool_result' }>): string | ContentPart[] {
  const prefix = b.is_error === true ? 'Error: ' : '';
  const c = b.content;
  if (c === undefined) return prefix;
  if (typeof c === 'string') return prefix + c;
  if (c.every((x) => x.type === 'text'))
    return prefix + c.map((x) => (x.type === 'text' ? x.text : '')).join('\n');
  const parts: ContentPart[] = prefix ? [{ type: 'text', text: prefix }] : [];
  for (const x of c) parts.push(x.type === 'text' ? { type: 'text', text: x.text } : imagePart(x));
  return parts;
}

function assistantMessage(m: AnthropicInputMessage, i: number): ChatMessage {
  if (typeof m.content === 'string') return { role: 'assistant', content: m.content };
  let text = '';
  const calls: ToolCall[] = [];
  for (let j = 0; j < m.content.length; j++) {
    const b = m.content[j]!;
    switch (b.type) {
      case 'text':
        text += b.text;
        break;
      case 'tool_use':
        calls.push({
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: JSON.stringify(b.input) },
        });
        break;
      case 'thinking':
      case 'redacted_thinking':
        break; // signed or encrypted for Anthropic alone, and stripped from earlier turns by Anthropic itself
      case 'image':
      case 'document':
      case 'tool_result':
        throw notHere(b, 'assistant', `messages.${i}.content.${j}`);
    }
  }
  const out: Extract<ChatMessage, { role: 'assistant' }> = {
    role: 'assistant',
    content: text.length || !calls.length ? text : null,
  };
  if (calls.length) out.tool_calls = calls;
  return out;
}
