import {
  STOP_SEQUENCE_FIELD,
  type AnthropicMessage,
  type AnthropicOutputBlock,
  type AnthropicStopReason,
  type AnthropicUsage,
  type ChatCompletion,
  type FinishReason,
  type Usage,
} from '@gw/contracts';

/**
 * The internal OpenAI chat completion → an Anthropic Message. `reasoning_content` becomes a leading `thinking`
 * block (with an empty signature: no provider but Anthropic signs thinking, and the gateway cannot), then the
 * text, then one `tool_use` block per tool call (arguments parsed back to an object). A stop sequence the upstream
 * reported (STOP_SEQUENCE_FIELD) is stop_reason `stop_sequence` with the sequence (null when it did not say which).
 */
export function toAnthropicMessage(c: ChatCompletion): AnthropicMessage {
  const choice = c.choices[0];
  const content: AnthropicOutputBlock[] = [];
  const m = choice?.message;
  if (m?.reasoning_content) content.push({ type: 'thinking', thinking: m.reasoning_content, signature: '' });
  const text = m?.content ?? m?.refusal ?? null;
  if (text) content.push({ type: 'text', text });
  for (const call of m?.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments),
    });
  const matched = matchedStopSequence(choice);
  const reason = stopReason(choice?.finish_reason ?? null, matched);
  return {
    id: messageId(c.id),
    type: 'message',
    role: 'assistant',
    model: c.model,
    content,
    stop_reason: reason,
    stop_sequence: reason === 'stop_sequence' ? (matched ?? null) : null,
    usage: anthropicUsage(c.usage ?? null),
  };
}

/**
 * What the internal choice (of a completion, or a stream's finish chunk) says of a stop sequence: the sequence, null
 * (one matched, the upstream did not say which), or undefined (none matched, or not known).
 */
export function matchedStopSequence(
  choice: { [STOP_SEQUENCE_FIELD]?: unknown } | undefined,
): string | null | undefined {
  const v = choice?.[STOP_SEQUENCE_FIELD];
  return typeof v === 'string' || v === null ? v : undefined;
}

/** `chatcmpl-<x>` → `msg_<x>` (Anthropic SDKs show ids as they are; the prefix says what it is). */
export function messageId(id: string): string {
  return `msg_${id.startsWith('chatcmpl-') ? id.slice('chatcmpl-'.length) : id}`;
}

/**
 * OpenAI finish_reason → Anthropic stop_reason. `stop` is `stop_sequence` when the internal choice says a stop
 * sequence ended it (STOP_SEQUENCE_FIELD present: the upstream said so), else `end_turn`: an upstream that only says
 * "stopped" (OpenAI and the OpenAI-compatible ones, Gemini) is a natural end, even when the client gave
 * stop_sequences (docs/adr/0008).
 */
export function stopReason(f: FinishReason | null, stopSequence?: string | null): AnthropicStopReason {
  switch (f) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
      return stopSequence === undefined ? 'end_turn' : 'stop_sequence';
    case null:
      return 'end_turn';
  }
}

/** OpenAI prompt tokens include cached ones; Anthropic's input_tokens exclude the cache reads. */
export function anthropicUsage(u: Usage | null): AnthropicUsage {
  const prompt = u?.prompt_tokens ?? 0;
  const cached = Math.min(prompt, u?.prompt_tokens_details?.cached_tokens ?? 0);
  return {
    input_tokens: prompt - cached,
    output_tokens: u?.completion_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}

/** Tool arguments as the object Anthropic's `input` is; arguments that are not a JSON object are kept under `_raw`. */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // not JSON: kept as received below
  }
  return { _raw: args };
}
