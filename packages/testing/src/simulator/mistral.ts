import type { Answer, Generation, Route, WireFormat } from './format.js';
import { chat, embeddings, openaiFormat } from './openai.js';
import { rewrite, type Json } from './openai-flavours.js';

/**
 * Mistral's chat completions and embeddings, served under MISTRAL_PREFIX (the base URL is `${url}/mistral/v1`).
 * Validated like Mistral validates: unknown top-level fields (`seed`, `stream_options`, `user`, ...) and a role
 * Mistral lacks (`developer`) are a 422 with Mistral's `detail` list; `tool_choice` must be auto, none, any,
 * required or a named function. Answers have Mistral's quirks: tool calls without `type` (and, streamed, without
 * `index`), the usage on the last chunk (no separate usage chunk, whatever `stream_options` says).
 */

export const MISTRAL_PREFIX = '/mistral';
const FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'prompt_mode',
  'safe_prompt',
]);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const TOOL_CHOICES = new Set(['auto', 'none', 'any', 'required']);

function unprocessable(loc: Array<string | number>, msg: string, type: string, input: unknown): Answer {
  return {
    kind: 'json',
    status: 422,
    body: {
      object: 'error',
      message: { detail: [{ type, loc: ['body', ...loc], msg, input }] },
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

export function validateMistral(raw: unknown): Answer | null {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return unprocessable([], 'Input should be a valid dictionary', 'dict_type', raw);
  const body = raw as Json;
  for (const k of Object.keys(body))
    if (!FIELDS.has(k))
      return unprocessable([k], 'Extra inputs are not permitted', 'extra_forbidden', body[k]);
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (let i = 0; i < messages.length; i++) {
      const role = (messages[i] as Json | null)?.['role'];
      if (typeof role !== 'string' || !ROLES.has(role))
        return unprocessable(
          ['messages', i, 'role'],
          "Input should be 'system', 'user', 'assistant' or 'tool'",
          'literal_error',
          role,
        );
    }
  }
  const choice = body['tool_choice'];
  if (choice !== undefined && !(typeof choice === 'string' && TOOL_CHOICES.has(choice))) {
    const named =
      choice &&
      typeof choice === 'object' &&
      (choice as Json)['type'] === 'function' &&
      typeof ((choice as Json)['function'] as Json | undefined)?.['name'] === 'string';
    if (!named)
      return unprocessable(
        ['tool_choice'],
        "Input should be 'auto', 'none', 'any' or 'required'",
        'enum',
        choice,
      );
  }
  return null;
}

function stripToolCalls(calls: unknown, stream: boolean): void {
  if (!Array.isArray(calls)) return;
  for (const c of calls as Json[]) {
    delete c['type'];
    if (stream) delete c['index'];
  }
}

function handleChat(raw: unknown, gen: Generation): Answer {
  const invalid = validateMistral(raw);
  if (invalid) return invalid;
  const body = { ...(raw as Json) };
  if (body['tool_choice'] === 'any') body['tool_choice'] = 'required';
  if (body['stream'] === true) body['stream_options'] = { include_usage: true };
  let finishChunk: Json | null = null;
  return rewrite(
    chat(body, gen),
    (b) => {
      for (const c of b['choices'] as Json[]) stripToolCalls((c['message'] as Json)['tool_calls'], false);
    },
    (chunk) => {
      const choices = chunk['choices'] as Json[];
      if (choices.length === 0 && finishChunk) {
        // the usage rides on the finish chunk, which is held back until now
        finishChunk['usage'] = chunk['usage'];
        const out = finishChunk;
        finishChunk = null;
        return out;
      }
      delete chunk['usage'];
      for (const c of choices) stripToolCalls((c['delta'] as Json)['tool_calls'], true);
      if (choices.some((c) => c['finish_reason'] !== null)) {
        finishChunk = chunk;
        return null;
      }
      return chunk;
    },
  );
}

const routes: Route[] = [
  { method: 'POST', path: `${MISTRAL_PREFIX}/v1/chat/completions`, handle: handleChat },
  { method: 'POST', path: `${MISTRAL_PREFIX}/v1/embeddings`, handle: (b) => embeddings(b) },
];

export const mistralFormat: WireFormat = {
  routes,
  error(status, message) {
    if (status === 401)
      return { kind: 'json', status, body: { message: message ?? 'Unauthorized', request_id: 'sim' } };
    if (status === 429)
      return { kind: 'json', status, body: { message: message ?? 'Requests rate limit exceeded' } };
    return {
      kind: 'json',
      status,
      body: {
        object: 'error',
        message: message ?? `Simulated error ${status}.`,
        type: status >= 500 ? 'internal_server_error' : 'invalid_request_error',
        param: null,
        code: null,
      },
    };
  },
  malformed: (stream) => openaiFormat.malformed(stream),
};
