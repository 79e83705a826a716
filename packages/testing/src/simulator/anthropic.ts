import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { stopAt } from './stop-sequences.js';
import { argumentDeltas, capPieces, contentText, fillerPieces, nextId, promptTokens, replyPieces, schemaArguments, tokensOf } from './text.js';

/**
 * The Anthropic Messages wire format (POST /v1/messages): JSON and SSE (the real event sequence: message_start,
 * content_block_start, ping, content_block_delta..., content_block_stop, message_delta, message_stop), request
 * validation with Anthropic's 400 error shape, and a tool_use answer when tool_choice forces a tool (`any` or a
 * named `tool`), as the OpenAI format does for `required` / a named function.
 */

const SSE = 'text/event-stream; charset=utf-8';
const VERSIONS = new Set(['2023-06-01', '2023-01-01']);
const BLOCK_TYPES = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'search_result', 'server_tool_use', 'web_search_tool_result']);
const TOOL_CHOICES = new Set(['auto', 'any', 'tool', 'none']);
const TOP_LEVEL = new Set([
  'model',
  'messages',
  'max_tokens',
  'system',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'stop_sequences',
  'tools',
  'tool_choice',
  'metadata',
  'thinking',
  'output_config',
  'output_format',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
]);

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};
const DEFAULT_MESSAGES: Record<string, string> = {
  invalid_request_error: 'Invalid request.',
  authentication_error: 'invalid x-api-key',
  billing_error: 'Your credit balance is too low to access the Anthropic API.',
  permission_error: 'Your API key does not have permission to use the specified resource.',
  not_found_error: 'The requested resource could not be found.',
  request_too_large: 'Request exceeds the maximum allowed number of bytes.',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit.',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out.',
  overloaded_error: 'Overloaded',
};

export function anthropicError(status: number, message: string | null, type?: string): Answer {
  const t = type ?? ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { kind: 'json', status, body: { type: 'error', error: { type: t, message: message ?? DEFAULT_MESSAGES[t] ?? `Simulated error ${status}.` }, request_id: nextId('req_sim') } };
}

function invalid(message: string): { error: Answer } {
  return { error: anthropicError(400, message, 'invalid_request_error') };
}

type Block = { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown; tool_use_id?: unknown };
type Message = { role: 'user' | 'assistant'; content: string | Block[] };
type Tool = { name: string; input_schema?: unknown };
type MessagesBody = {
  model: string;
  max_tokens: number;
  messages: Message[];
  system?: string | Array<{ type: 'text'; text: string }>;
  stream?: boolean;
  stop_sequences?: string[];
  tools?: Tool[];
  tool_choice?: { type: 'auto' | 'any' | 'tool' | 'none'; name?: string };
};

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function checkBlocks(content: unknown[], at: string, role: string, prevToolUses: Set<string>): { error: Answer } | null {
  for (let j = 0; j < content.length; j++) {
    const b = content[j];
    if (!isObject(b)) return invalid(`${at}.${j}: Input should be a valid dictionary or object to extract fields from`);
    const type = b['type'];
    if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) {
      return invalid(`${at}.${j}: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: ${[...BLOCK_TYPES].map((t) => `'${t}'`).join(', ')}`);
    }
    if (type === 'text' && (typeof b['text'] !== 'string' || b['text'] === '')) return invalid('messages: text content blocks must be non-empty');
    if (type === 'tool_use' && role !== 'assistant') return invalid(`${at}.${j}: tool_use blocks can only be in assistant messages`);
    if (type === 'tool_result') {
      if (role !== 'user') return invalid(`${at}.${j}: tool_result blocks can only be in user messages`);
      const id = b['tool_use_id'];
      if (typeof id !== 'string' || !prevToolUses.has(id)) {
        return invalid(
          `${at}.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
    if (type === 'image' || type === 'document') {
      const src = b['source'];
      if (!isObject(src) || (src['type'] !== 'base64' && src['type'] !== 'url' && src['type'] !== 'text' && src['type'] !== 'file')) {
        return invalid(`${at}.${j}.source: Input tag '${isObject(src) ? String(src['type']) : 'undefined'}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`);
      }
    }
  }
  return null;
}

function toolUseIds(content: unknown): Set<string> {
  const ids = new Set<string>();
  if (!Array.isArray(content)) return ids;
  for (const b of content) if (isObject(b) && b['type'] === 'tool_use' && typeof b['id'] === 'string') ids.add(b['id']);
  return ids;
}

function checkMessages(messages: unknown): { error: Answer } | null {
  if (messages === undefined) return invalid('messages: Field required');
  if (!Array.isArray(messages)) return invalid('messages: Input should be a valid list');
  if (messages.length === 0) return invalid('messages: at least one message is required');
  let prevRole: string | null = null;
  let prevToolUses = new Set<string>();
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const at = `messages.${i}`;
    if (!isObject(m)) return invalid(`${at}: Input should be a valid dictionary or object to extract fields from`);
    const role = m['role'];
    if (role === 'system') {
      return invalid('messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.');
    }
    if (role !== 'user' && role !== 'assistant') return invalid(`${at}.role: Input should be 'user' or 'assistant'`);
    if (i === 0 && role !== 'user') return invalid('messages: first message must use the "user" role');
    if (role === prevRole) return invalid(`messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`);
    const content = m['content'];
    if (content === undefined) return invalid(`${at}.content: Field required`);
    if (typeof content === 'string') {
      if (content === '') return invalid(`${at}: all messages must have non-empty content except for the optional final assistant message`);
    } else if (Array.isArray(content)) {
      const bad = checkBlocks(content, `${at}.content`, role, prevToolUses);
      if (bad) return bad;
    } else return invalid(`${at}.content: Input should be a valid string or a valid list`);
    const results = new Set<string>();
    if (Array.isArray(content)) for (const b of content) if (isObject(b) && b['type'] === 'tool_result' && typeof b['tool_use_id'] === 'string') results.add(b['tool_use_id']);
    const missing = [...prevToolUses].filter((id) => !results.has(id));
    if (missing.length) {
      return invalid(`messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
    }
    prevToolUses = role === 'assistant' ? toolUseIds(content) : new Set<string>();
    prevRole = role;
  }
  return null;
}

function checkTools(body: Record<string, unknown>): { error: Answer } | null {
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return invalid('tools: Input should be a valid list');
    for (let i = 0; i < tools.length; i++) {
      const t: unknown = tools[i];
      if (!isObject(t) || typeof t['name'] !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t['name'])) return invalid(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
      if (!isObject(t['input_schema'])) return invalid(`tools.${i}.custom.input_schema: Field required`);
    }
  }
  const choice = body['tool_choice'];
  if (choice === undefined) return null;
  if (!isObject(choice) || typeof choice['type'] !== 'string' || !TOOL_CHOICES.has(choice['type'])) {
    return invalid("tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
  }
  if (choice['type'] === 'tool') {
    if (typeof choice['name'] !== 'string') return invalid('tool_choice.tool.name: Field required');
    if (!Array.isArray(tools) || !(tools as Tool[]).some((t) => t.name === choice['name'])) return invalid(`tool_choice: tool '${choice['name']}' not found in tools`);
  }
  return null;
}

function checkSystem(system: unknown): { error: Answer } | null {
  if (system === undefined || typeof system === 'string') return null;
  if (!Array.isArray(system)) return invalid('system: Input should be a valid string or a valid list');
  for (let i = 0; i < system.length; i++) {
    const b: unknown = system[i];
    if (!isObject(b) || b['type'] !== 'text' || typeof b['text'] !== 'string') return invalid(`system.${i}: Input should be a text block`);
  }
  return null;
}

function checkRange(body: Record<string, unknown>, name: string, min: number, max: number): { error: Answer } | null {
  const v = body[name];
  if (v === undefined) return null;
  if (typeof v !== 'number') return invalid(`${name}: Input should be a valid number`);
  if (v < min) return invalid(`${name}: Input should be greater than or equal to ${min}`);
  if (v > max) return invalid(`${name}: Input should be less than or equal to ${max}`);
  return null;
}

export function validateMessages(raw: unknown, req: RouteRequest): { body: MessagesBody } | { error: Answer } {
  const version = req.headers['anthropic-version'];
  if (version === undefined) return invalid('anthropic-version: header is required');
  if (typeof version !== 'string' || !VERSIONS.has(version)) return invalid(`anthropic-version: invalid version ${String(version)}`);
  if (!isObject(raw)) return invalid('Input should be a valid dictionary or object to extract fields from');
  for (const k of Object.keys(raw)) if (!TOP_LEVEL.has(k)) return invalid(`${k}: Extra inputs are not permitted`);
  if (typeof raw['model'] !== 'string' || !raw['model']) return invalid('model: Field required');
  const max = raw['max_tokens'];
  if (max === undefined) return invalid('max_tokens: Field required');
  if (typeof max !== 'number' || !Number.isInteger(max)) return invalid('max_tokens: Input should be a valid integer');
  if (max < 1) return invalid('max_tokens: Input should be greater than or equal to 1');
  const problem =
    checkMessages(raw['messages']) ?? checkSystem(raw['system']) ?? checkRange(raw, 'temperature', 0, 1) ?? checkRange(raw, 'top_p', 0, 1) ?? checkTools(raw);
  if (problem) return problem;
  return { body: raw as MessagesBody };
}

/* ---------------- answers ---------------- */

type Reply = {
  text: string[];
  tool: { id: string; name: string; input: string } | null;
  stop: 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence';
  /** the stop sequence that ended the reply (stop_reason `stop_sequence`), else null */
  sequence: string | null;
};

function lastUserText(body: MessagesBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role === 'user') {
      const t = contentText(m.content);
      if (t) return t;
    }
  }
  return '';
}

function forcedTool(body: MessagesBody): Tool | null {
  const tools = body.tools;
  const choice = body.tool_choice;
  if (!tools?.length || !choice) return null;
  if (choice.type === 'any') return tools[0]!;
  if (choice.type === 'tool') return tools.find((t) => t.name === choice.name) ?? null;
  return null;
}

function reply(body: MessagesBody, gen: Generation): Reply {
  const hint = lastUserText(body);
  const tool = forcedTool(body);
  if (tool) return { text: [], tool: { id: nextId('toolu_sim'), name: tool.name, input: schemaArguments(tool.input_schema, hint) }, stop: 'tool_use', sequence: null };
  const stopped = stopAt(gen.outputTokens !== null ? fillerPieces(gen.outputTokens) : replyPieces(hint), body.stop_sequences);
  const cap = capPieces(stopped.pieces, body.max_tokens);
  if (cap.capped) return { text: cap.pieces, tool: null, stop: 'max_tokens', sequence: null };
  return { text: cap.pieces, tool: null, stop: stopped.matched === null ? 'end_turn' : 'stop_sequence', sequence: stopped.matched };
}

function inputTokens(body: MessagesBody): number {
  const system = body.system === undefined ? [] : [{ content: body.system }];
  return promptTokens([...system, ...body.messages]);
}

function outputTokens(r: Reply): number {
  return tokensOf(r.tool ? r.tool.name + r.tool.input : r.text.join(''));
}

function usage(input: number, output: number) {
  return { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output, service_tier: 'standard' };
}

function message(body: MessagesBody, r: Reply): Answer {
  const content = r.tool ? [{ type: 'tool_use', id: r.tool.id, name: r.tool.name, input: JSON.parse(r.tool.input) as unknown }] : [{ type: 'text', text: r.text.join('') }];
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('msg_sim'),
      type: 'message',
      role: 'assistant',
      model: body.model,
      content,
      stop_reason: r.stop,
      stop_sequence: r.sequence,
      usage: usage(inputTokens(body), outputTokens(r)),
    },
  };
}

function sse(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function streamEvents(body: MessagesBody, r: Reply): Answer {
  const input = inputTokens(body);
  const events = [
    sse('message_start', {
      type: 'message_start',
      message: { id: nextId('msg_sim'), type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: usage(input, 1) },
    }),
  ];
  if (r.tool) {
    events.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: r.tool.id, name: r.tool.name, input: {} } }));
    events.push(sse('ping', { type: 'ping' }));
    events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const part of argumentDeltas(r.tool.input)) events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: part } }));
  } else {
    events.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    events.push(sse('ping', { type: 'ping' }));
    for (const piece of r.text) events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }));
  }
  events.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  events.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: r.stop, stop_sequence: r.sequence }, usage: { output_tokens: outputTokens(r) } }));
  events.push(sse('message_stop', { type: 'message_stop' }));
  return { kind: 'stream', contentType: SSE, events };
}

function messages(raw: unknown, gen: Generation, req: RouteRequest): Answer {
  const checked = validateMessages(raw, req);
  if ('error' in checked) return checked.error;
  const r = reply(checked.body, gen);
  return checked.body.stream === true ? streamEvents(checked.body, r) : message(checked.body, r);
}

const routes: Route[] = [{ method: 'POST', path: '/v1/messages', handle: messages }];

export const anthropicFormat: WireFormat = {
  routes,
  error: (status, message) => anthropicError(status, message),
  malformed(stream) {
    if (stream) return { kind: 'stream', contentType: SSE, events: ['event: message_start\ndata: {"type":"message_start","message":{"id":\n\n', sse('message_stop', { type: 'message_stop' })] };
    return { kind: 'raw', status: 200, contentType: 'application/json', text: '{"id":"msg_broken","type":"message","content":[{' };
  },
};
