import type { Answer } from './format.js';

/**
 * Helpers for the formats that are OpenAI's with differences (azure, mistral, deepseek): they validate their own
 * rules, answer with the OpenAI format's chat, then rewrite the answer (a JSON body, or each `data:` event of a
 * stream) into the provider's variant.
 */

export type Json = Record<string, unknown>;

/**
 * Rewrites a JSON answer's body, or every JSON event of a stream answer (`data: [DONE]` kept): an event becomes
 * the chunk returned, several chunks (an array), or none (`null`).
 */
export function rewrite(
  answer: Answer,
  json: (body: Json) => void,
  event: (chunk: Json) => Json | Json[] | null,
): Answer {
  if (answer.kind === 'json') {
    if (answer.status === 200 && answer.body && typeof answer.body === 'object') json(answer.body as Json);
    return answer;
  }
  if (answer.kind !== 'stream') return answer;
  const events: Array<string | Uint8Array> = [];
  for (const e of answer.events) {
    // binary frames (event-stream formats) are never rewritten: the OpenAI flavours speak SSE text
    if (typeof e !== 'string' || !e.startsWith('data: {')) {
      events.push(e);
      continue;
    }
    const out = event(JSON.parse(e.slice(6)) as Json);
    for (const c of out === null ? [] : Array.isArray(out) ? out : [out])
      events.push(`data: ${JSON.stringify(c)}\n\n`);
  }
  return { ...answer, events };
}

export function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === 'user')
      return typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '');
  }
  return '';
}
