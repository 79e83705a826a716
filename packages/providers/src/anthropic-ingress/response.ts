import type {
  AnthropicMessage,
  AnthropicOutputBlock,
  AnthropicStopReason,
  AnthropicUsage,
  ChatCompletion,
  FinishReason,
  Usage,
} from '@gw/contracts';

/**
 * The internal OpenAI chat completion → an Anthropic Message. `reasoning_content` becomes a leading `thinking`
 * block (with an empty signature: no provider but Anthropic signs thinking, and the gateway cannot), then the
 * text, then one `tool_use` block per tool call (arguments parsed back to an object).
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
  return {
    id: messageId(c.id),
    type: 'message',
    role: 'assistant',
    model: c.model,
    content,
    stop_reason: stopReason(choice?.finish_reason ?? null),
    stop_sequence: null,
    usage: anthropicUsage(c.usage ?? null),
  };
}

/** `chatcmpl-<x>` → `msg_<x>` (Anthropic SDKs show ids as they are; the prefix says what it is). */
export function messageId(id: string): string {
  return `msg_${id.startsWith('chatcmpl-') ? id.slice('chatcmpl-'.length) : id}`;
}

/**
 * OpenAI finish_reason → Anthropic stop_reason. `stop` is `end_turn`: the internal format does not say whether a
 * stop sequence matched (and which), so `stop_sequence` is never reported (docs/adr/0008).
 */
export function stopReason(f: FinishReason | null): AnthropicStopReason {
  switch (f) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
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
