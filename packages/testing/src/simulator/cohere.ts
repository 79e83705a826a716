import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { header } from './openai-flavours.js';
import {
  argumentDeltas,
  capPieces,
  contentText,
  embed,
  fillerPieces,
  nextId,
  promptTokens,
  replyPieces,
  schemaArguments,
  tokensOf,
} from './text.js';
import { stopAt } from './stop-sequences.js';

/**
 * Cohere's v2 API: `POST /v2/chat` (JSON, and SSE with `event: <type>` lines and no [DONE]) and `POST /v2/embed`.
 * Requests are checked against Cohere's documented v2 schema (fields, roles, content items, tools, `tool_choice`
 * REQUIRED/NONE only, response_format, embed's `input_type` and `embedding_types`) and a wrong one gets a 400 in
 * Cohere's shape `{"id":..., "message":"invalid request: ..."}`; no `Authorization: Bearer` is a 401. The simulator
 * refuses unknown top-level fields, stricter than the real API may be, so a translation bug cannot hide.
 * A forced tool (`tool_choice: REQUIRED`) is answered with a call of the first tool; otherwise text.
 */

const SSE = 'text/event-stream; charset=utf-8';
type Json = Record<string, unknown>;

const CHAT_FIELDS = new Set([
  'model',
  'messages',
  'stream',
  'tools',
  'strict_tools',
  'documents',
  'citation_options',
  'response_format',
  'safety_mode',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'k',
  'p',
  'logprobs',
  'tool_choice',
  'thinking',
  'priority',
]);
const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const USER_ITEMS = new Set(['text', 'image_url', 'document']);
const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);
const EMBEDDING_TYPES = new Set(['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64']);

export function cohereError(status: number, message: string): Answer {
  return { kind: 'json', status, body: { id: nextId('sim-'), message } };
}

function bad(message: string): { error: Answer } {
  return { error: cohereError(400, `invalid request: ${message}`) };
}

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function checkMessage(m: unknown, i: number): { error: Answer } | null {
  if (!isObject(m)) return bad(`messages[${i}] must be an object`);
  const role = m['role'];
  if (typeof role !== 'string' || !ROLES.has(role))
    return bad(`messages[${i}].role must be one of system, user, assistant, tool`);
  const content = m['content'];
  if (role === 'user' || role === 'system') {
    if (typeof content === 'string') return null;
    if (!Array.isArray(content))
      return bad(`messages[${i}].content must be a string or a list of content items`);
    for (const item of content as unknown[]) {
      const type = isObject(item) ? item['type'] : undefined;
      if (typeof type !== 'string' || !USER_ITEMS.has(type) || (role === 'system' && type !== 'text'))
        return bad(`messages[${i}].content has an unsupported item type ${JSON.stringify(type)}`);
      if (
        type === 'image_url' &&
        typeof (isObject(item) ? (item['image_url'] as Json | undefined)?.['url'] : undefined) !== 'string'
      )
        return bad(`messages[${i}].content image_url.url is required`);
    }
    return null;
  }
  if (role === 'tool') {
    if (typeof m['tool_call_id'] !== 'string')
      return bad(`messages[${i}].tool_call_id is required for a tool message`);
    if (typeof content !== 'string' && !Array.isArray(content))
      return bad(`messages[${i}].content is required for a tool message`);
    return null;
  }
  // assistant
  if (content !== undefined && typeof content !== 'string' && !Array.isArray(content))
    return bad(`messages[${i}].content must be a string or a list of content items`);
  const calls = m['tool_calls'];
  if (calls !== undefined) {
    if (!Array.isArray(calls)) return bad(`messages[${i}].tool_calls must be a list`);
    for (const c of calls as unknown[]) {
      const fn = isObject(c) ? c['function'] : undefined;
      if (
        !isObject(c) ||
        typeof c['id'] !== 'string' ||
        !isObject(fn) ||
        typeof fn['name'] !== 'string' ||
        typeof fn['arguments'] !== 'string'
      ) {
        return bad(
          `messages[${i}].tool_calls items need an id and a function with a name and string arguments`,
        );
      }
    }
  }
  if (content === undefined && calls === undefined)
    return bad(`messages[${i}]: an assistant message needs content or tool_calls`);
  return null;
}

type ChatBody = {
  model: string;
  messages: Json[];
  stream?: boolean;
  tools?: Json[];
  tool_choice?: string;
  max_tokens?: number;
  stop_sequences?: string[];
};

export function validateCohereChat(raw: unknown): { body: ChatBody } | { error: Answer } {
  if (!isObject(raw)) return bad('the body must be a JSON object');
  for (const k of Object.keys(raw))
    if (!CHAT_FIELDS.has(k)) return bad(`unknown field: parameter ${k} is not a valid field`);
  if (typeof raw['model'] !== 'string' || !raw['model']) return bad('model is required');
  const messages = raw['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return bad('messages must be a non-empty list');
  for (let i = 0; i < messages.length; i++) {
    const problem = checkMessage(messages[i], i);
    if (problem) return problem;
  }
  const tools = raw['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return bad('tools must be a list');
    for (const t of tools as unknown[]) {
      const fn = isObject(t) ? t['function'] : undefined;
      if (!isObject(t) || t['type'] !== 'function' || !isObject(fn) || typeof fn['name'] !== 'string')
        return bad('tools items must be {type: "function", function: {name, parameters}}');
    }
  }
  const choice = raw['tool_choice'];
  if (choice !== undefined && choice !== 'REQUIRED' && choice !== 'NONE')
    return bad(`tool_choice must be REQUIRED or NONE, got ${JSON.stringify(choice)}`);
  if (choice !== undefined && !Array.isArray(tools)) return bad('tool_choice requires tools');
  const rf = raw['response_format'];
  if (rf !== undefined && (!isObject(rf) || (rf['type'] !== 'text' && rf['type'] !== 'json_object')))
    return bad('response_format.type must be text or json_object');
  for (const k of ['max_tokens', 'seed', 'k'] as const) {
    const v = raw[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0))
      return bad(`${k} must be a non-negative integer`);
  }
  const p = raw['p'];
  if (p !== undefined && (typeof p !== 'number' || p < 0.01 || p > 0.99))
    return bad('p must be between 0.01 and 0.99');
  const temperature = raw['temperature'];
  if (temperature !== undefined && (typeof temperature !== 'number' || temperature < 0))
    return bad('temperature must be a non-negative number');
  const stop = raw['stop_sequences'];
  if (
    stop !== undefined &&
    (!Array.isArray(stop) || stop.length > 5 || !stop.every((s) => typeof s === 'string'))
  )
    return bad('stop_sequences must be a list of at most 5 strings');
  return { body: raw as ChatBody };
}

type Reply = {
  pieces: string[];
  call: { id: string; name: string; arguments: string } | null;
  finish: 'COMPLETE' | 'MAX_TOKENS' | 'TOOL_CALL' | 'STOP_SEQUENCE';
};

function reply(body: ChatBody, gen: Generation): Reply {
  let hint = '';
  for (let i = body.messages.length - 1; i >= 0; i--) {
    if (body.messages[i]!['role'] === 'user') {
      hint = contentText(body.messages[i]!['content']);
      break;
    }
  }
  const tool = body.tool_choice === 'REQUIRED' ? body.tools?.[0] : undefined;
  if (tool) {
    const fn = tool['function'] as Json;
    const name = String(fn['name']);
    return {
      pieces: [],
      call: { id: `${name}_${nextId('')}`, name, arguments: schemaArguments(fn['parameters'], hint) },
      finish: 'TOOL_CALL',
    };
  }
  // a stop sequence ends the reply before it; Cohere says STOP_SEQUENCE, not which one
  const stopped = stopAt(gen.outputTokens !== null ? fillerPieces(gen.outputTokens) : replyPieces(hint), body.stop_sequences);
  const cap = capPieces(stopped.pieces, body.max_tokens ?? null);
  const finish = cap.capped ? 'MAX_TOKENS' : stopped.matched === null ? 'COMPLETE' : 'STOP_SEQUENCE';
  return { pieces: cap.pieces, call: null, finish };
}

function usage(body: ChatBody, r: Reply) {
  const input = promptTokens(body.messages);
  const output = r.call ? tokensOf(r.call.name + r.call.arguments) : tokensOf(r.pieces.join(''));
  // Cohere's `tokens` also count its prompt template: more than the billed units
  return {
    billed_units: { input_tokens: input, output_tokens: output },
    tokens: { input_tokens: input + 200, output_tokens: output + 2 },
    cached_tokens: 0,
  };
}

function sse(data: Json): string {
  return `event: ${String(data['type'])}\ndata: ${JSON.stringify(data)}\n\n`;
}

function streamEvents(body: ChatBody, r: Reply): Answer {
  const events = [
    sse({
      id: nextId('sim-'),
      type: 'message-start',
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    }),
  ];
  if (r.call) {
    for (const word of ['I', ' will', ' use', ` ${r.call.name}.`])
      events.push(sse({ type: 'tool-plan-delta', delta: { message: { tool_plan: word } } }));
    events.push(
      sse({
        type: 'tool-call-start',
        index: 0,
        delta: {
          message: {
            tool_calls: { id: r.call.id, type: 'function', function: { name: r.call.name, arguments: '' } },
          },
        },
      }),
    );
    for (const part of argumentDeltas(r.call.arguments))
      events.push(
        sse({
          type: 'tool-call-delta',
          index: 0,
          delta: { message: { tool_calls: { function: { arguments: part } } } },
        }),
      );
    events.push(sse({ type: 'tool-call-end', index: 0 }));
  } else {
    events.push(
      sse({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } }),
    );
    for (const piece of r.pieces)
      events.push(sse({ type: 'content-delta', index: 0, delta: { message: { content: { text: piece } } } }));
    events.push(sse({ type: 'content-end', index: 0 }));
  }
  events.push(sse({ type: 'message-end', delta: { finish_reason: r.finish, usage: usage(body, r) } }));
  return { kind: 'stream', contentType: SSE, events };
}

function message(body: ChatBody, r: Reply): Answer {
  const msg: Json = { role: 'assistant' };
  if (r.call) {
    msg['tool_plan'] = `I will use ${r.call.name}.`;
    msg['tool_calls'] = [
      { id: r.call.id, type: 'function', function: { name: r.call.name, arguments: r.call.arguments } },
    ];
  } else msg['content'] = [{ type: 'text', text: r.pieces.join('') }];
  return {
    kind: 'json',
    status: 200,
    body: { id: nextId('sim-'), message: msg, finish_reason: r.finish, usage: usage(body, r) },
  };
}

function authorized(req: RouteRequest): boolean {
  return header(req.headers, 'authorization')?.startsWith('Bearer ') === true;
}

function chat(raw: unknown, gen: Generation, req: RouteRequest): Answer {
  if (!authorized(req)) return cohereError(401, 'no api key supplied');
  const checked = validateCohereChat(raw);
  if ('error' in checked) return checked.error;
  const r = reply(checked.body, gen);
  return checked.body.stream ? streamEvents(checked.body, r) : message(checked.body, r);
}

function embedAnswer(raw: unknown, req: RouteRequest): Answer {
  if (!authorized(req)) return cohereError(401, 'no api key supplied');
  if (!isObject(raw)) return bad('the body must be a JSON object').error;
  if (typeof raw['model'] !== 'string' || !raw['model']) return bad('model is required').error;
  const texts = raw['texts'];
  if (
    !Array.isArray(texts) ||
    texts.length === 0 ||
    texts.length > 96 ||
    !texts.every((t) => typeof t === 'string')
  )
    return bad('texts must be a list of 1 to 96 strings').error;
  const inputType = raw['input_type'];
  if (typeof inputType !== 'string' || !INPUT_TYPES.has(inputType))
    return bad(
      'input_type is required for embed models v3 and higher (search_document, search_query, classification, clustering, image)',
    ).error;
  const types = raw['embedding_types'] ?? ['float'];
  if (!Array.isArray(types) || !types.every((t) => typeof t === 'string' && EMBEDDING_TYPES.has(t)))
    return bad('embedding_types items must be float, int8, uint8, binary, ubinary or base64').error;
  if (!types.every((t) => t === 'float')) return bad('the simulator answers float embeddings only').error;
  const dims = typeof raw['output_dimension'] === 'number' ? raw['output_dimension'] : 256;
  const tokens = texts.reduce((n, t) => n + tokensOf(t), 0);
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('sim-'),
      texts,
      embeddings: { float: texts.map((t) => embed(t, dims)) },
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: tokens } },
      response_type: 'embeddings_by_type',
    },
  };
}

const routes: Route[] = [
  { method: 'POST', path: '/v2/chat', handle: chat },
  { method: 'POST', path: '/v2/embed', handle: (b, _g, req) => embedAnswer(b, req) },
];

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'invalid request',
  401: 'invalid api token',
  402: 'Please add or update your payment method to continue.',
  404: "model 'unknown' not found, make sure the correct model ID was used and that you have access to the model.",
  429: "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'.",
  500: 'internal server error, this has been reported to our developers.',
  503: 'service unavailable',
};

export const cohereFormat: WireFormat = {
  routes,
  error: (status, message) =>
    cohereError(status, message ?? DEFAULT_MESSAGES[status] ?? `simulated error ${status}`),
  malformed(stream) {
    if (stream)
      return {
        kind: 'stream',
        contentType: SSE,
        events: ['event: message-start\ndata: {"id":"broken","type":"message-start","delta":{\n\n'],
      };
    return {
      kind: 'raw',
      status: 200,
      contentType: 'application/json',
      text: '{"id":"broken","message":{"role":"assistant","content":[',
    };
  },
};
