import type { CompatibleOptions } from '../openai-compatible/chat.js';

/**
 * Mistral chat completions: OpenAI's format with these differences, handled here and nowhere else.
 * Request:
 * - `tool_choice: "required"` is spelled `"any"`; auto, none and a named function pass through.
 * - `seed` is `random_seed`; `max_completion_tokens` is `max_tokens`.
 * - `developer` messages are `system` messages; `name` exists on tool messages only (dropped elsewhere); an
 *   assistant turn's `reasoning_content` is not sent back.
 * - No `stream_options` (Mistral always ends a stream with usage, and refuses unknown fields with a 422).
 * - Not supported (dropped, or a 400 in 'reject' mode): logprobs, top_logprobs, logit_bias, user, store,
 *   metadata, service_tier, modalities, audio, reasoning_effort, web_search_options.
 * - n, stop, temperature, top_p, penalties, parallel_tool_calls, response_format json_object and json_schema
 *   (native) pass through.
 * Response and stream:
 * - Magistral models answer `content` as an array of chunks (`thinking` chunks holding text, `text` chunks):
 *   thinking becomes `reasoning_content`, text becomes `content`.
 * - Tool calls come without `type` (and in streams without `index`, each call whole in one delta): added.
 */

export const MISTRAL_UNSUPPORTED = [
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'user',
  'store',
  'metadata',
  'service_tier',
  'modalities',
  'audio',
  'reasoning_effort',
  'web_search_options',
] as const;

type Msg = Record<string, unknown>;

function translateBody(body: Record<string, unknown>): void {
  delete body['stream_options'];
  if (body['tool_choice'] === 'required') body['tool_choice'] = 'any';
  if (body['seed'] !== undefined && body['seed'] !== null) body['random_seed'] = body['seed'];
  delete body['seed'];
  const mct = body['max_completion_tokens'];
  if (mct !== undefined && mct !== null) body['max_tokens'] = mct;
  delete body['max_completion_tokens'];
  const messages = body['messages'] as Msg[];
  body['messages'] = messages.map((m) => {
    const out: Msg = { ...m };
    if (out['role'] === 'developer') out['role'] = 'system';
    if (out['role'] !== 'tool') delete out['name'];
    delete out['reasoning_content'];
    return out;
  });
}

/** Mistral content (a string, or an array of text/thinking chunks) → OpenAI content and reasoning text. */
export function splitContent(content: unknown): { text: string | null; reasoning: string | null } {
  if (!Array.isArray(content)) return { text: typeof content === 'string' ? content : null, reasoning: null };
  let text: string | null = null;
  let reasoning: string | null = null;
  for (const raw of content as unknown[]) {
    if (!raw || typeof raw !== 'object') continue;
    const c = raw as Record<string, unknown>;
    if (c['type'] === 'text' && typeof c['text'] === 'string') text = (text ?? '') + c['text'];
    else if (c['type'] === 'thinking' && Array.isArray(c['thinking'])) {
      for (const t of c['thinking'] as unknown[]) {
        const tt = t as Record<string, unknown> | null;
        if (tt && typeof tt['text'] === 'string') reasoning = (reasoning ?? '') + tt['text'];
      }
    }
  }
  return { text, reasoning };
}

/** `toolIndex(isNew)`: the OpenAI index of a streamed call (a call with an id is a new one; a fragment continues the last). */
function fixMessage(m: Msg, toolIndex: ((isNew: boolean) => number) | null): void {
  if (Array.isArray(m['content'])) {
    const { text, reasoning } = splitContent(m['content']);
    m['content'] = toolIndex && text === null ? undefined : text;
    if (m['content'] === undefined) delete m['content'];
    if (reasoning !== null) m['reasoning_content'] = reasoning;
  }
  const calls = m['tool_calls'];
  if (Array.isArray(calls)) {
    for (const raw of calls as unknown[]) {
      const c = raw as Record<string, unknown>;
      if (c['type'] === undefined && (!toolIndex || typeof c['id'] === 'string')) c['type'] = 'function';
      if (toolIndex && c['index'] === undefined) c['index'] = toolIndex(typeof c['id'] === 'string');
    }
  }
}

export const mistralOptions: CompatibleOptions = {
  unsupportedParams: MISTRAL_UNSUPPORTED,
  body: translateBody,
  completion(c) {
    for (const choice of c['choices'] as Array<Record<string, unknown>>) {
      const m = choice['message'];
      if (m && typeof m === 'object') fixMessage(m as Msg, null);
    }
  },
  chunk() {
    let last = -1;
    const toolIndex = (isNew: boolean) => (isNew ? ++last : Math.max(last, 0));
    return (chunk) => {
      for (const choice of chunk['choices'] as Array<Record<string, unknown>>) {
        const d = choice['delta'];
        if (d && typeof d === 'object') fixMessage(d as Msg, toolIndex);
      }
    };
  },
};
