import type { ChatMessage } from './chat.js';

/**
 * The input images of a chat request in the internal (OpenAI chat) format: its `image_url` content parts. Every
 * wire format is translated into this one first (an Anthropic `image` block becomes an `image_url` part), so a
 * request is counted the same whichever way it came in. Images in a tool result count too: the model reads them as
 * input like a user's. The ingress counts once per request and carries the number in RequestMeta; budgets reserve
 * and billing charges it at the target's `price.perImage`.
 */
export function countInputImages(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) {
    const content = m.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) if (part.type === 'image_url') n++;
  }
  return n;
}
