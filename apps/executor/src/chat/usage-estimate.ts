import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '@gw/contracts';

/** Token estimates when the provider reported none: ceil(chars / 4) (protocol.md). */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content as Array<{ type?: unknown; text?: unknown }>) if (part.type === 'text' && typeof part.text === 'string') n += part.text.length;
  return n;
}

/** Characters of the prompt: message texts, tool call arguments, tool definitions. */
export function promptChars(req: ChatCompletionRequest): number {
  let n = 0;
  for (const m of req.messages) {
    n += contentChars(m.content);
    if (m.role === 'assistant' && m.tool_calls) for (const c of m.tool_calls) n += c.function.name.length + c.function.arguments.length;
  }
  if (req.tools) for (const t of req.tools) n += t.function.name.length + (t.function.description?.length ?? 0) + JSON.stringify(t.function.parameters ?? {}).length;
  return n;
}

/** Characters of output carried by one stream chunk. */
export function chunkChars(chunk: ChatCompletionChunk): number {
  let n = 0;
  for (const c of chunk.choices) {
    const d = c.delta;
    if (typeof d.content === 'string') n += d.content.length;
    if (typeof d.reasoning_content === 'string') n += d.reasoning_content.length;
    if (typeof d.refusal === 'string') n += d.refusal.length;
    if (d.tool_calls) for (const t of d.tool_calls) n += (t.function?.name?.length ?? 0) + (t.function?.arguments?.length ?? 0);
  }
  return n;
}

/** Characters of output of a whole completion. */
export function completionChars(c: ChatCompletion): number {
  let n = 0;
  for (const ch of c.choices) {
    const m = ch.message;
    if (typeof m.content === 'string') n += m.content.length;
    if (typeof m.reasoning_content === 'string') n += m.reasoning_content.length;
    if (m.tool_calls) for (const t of m.tool_calls) n += t.function.name.length + t.function.arguments.length;
  }
  return n;
}
