import type { Answer } from './format.js';

/** Request validation with OpenAI's messages, params and codes, so clients see the errors they would upstream. */

export type ToolDef = { type: 'function'; function: { name: string; parameters?: unknown } };
export type ChatMessageBody = { role: string; content?: unknown; name?: unknown; tool_calls?: unknown };
export type ChatBody = {
  model: string;
  messages: ChatMessageBody[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  tools?: ToolDef[];
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };
};

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const CONTENT_REQUIRED = new Set(['system', 'developer', 'user', 'tool']);

function invalid(message: string, param: string | null, code: string | null): { error: Answer } {
  return { error: { kind: 'json', status: 400, body: { error: { message, type: 'invalid_request_error', param, code } } } };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function checkMessages(messages: unknown): { error: Answer } | null {
  if (messages === undefined) return invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages)) {
    return invalid(`Invalid type for 'messages': expected an array of objects, but got ${typeName(messages)} instead.`, 'messages', 'invalid_type');
  }
  if (messages.length === 0) {
    return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  }
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!m || typeof m !== 'object' || Array.isArray(m)) {
      return invalid(`Invalid type for 'messages[${i}]': expected an object, but got ${typeName(m)} instead.`, `messages[${i}]`, 'invalid_type');
    }
    const role = (m as { role?: unknown }).role;
    if (role === undefined) return invalid(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, 'missing_required_parameter');
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return invalid(
        `Invalid value: ${JSON.stringify(role)}. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${i}].role`,
        'invalid_value',
      );
    }
    const content = (m as { content?: unknown }).content;
    if (CONTENT_REQUIRED.has(role) && content === undefined) {
      return invalid(`Missing required parameter: 'messages[${i}].content'.`, `messages[${i}].content`, 'missing_required_parameter');
    }
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      return invalid(`Invalid type for 'messages[${i}].content': expected one of a string or array of objects, but got ${typeName(content)} instead.`, `messages[${i}].content`, 'invalid_type');
    }
  }
  return null;
}

function checkPositiveInt(body: Record<string, unknown>, name: string): { error: Answer } | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) return invalid(`Invalid type for '${name}': expected an integer, but got ${typeName(v)} instead.`, name, 'invalid_type');
  if (v < 1) return invalid(`Invalid '${name}': integer below minimum value. Expected a value >= 1, but got ${v} instead.`, name, 'integer_below_min_value');
  return null;
}

function checkRange(body: Record<string, unknown>, name: string, min: number, max: number): { error: Answer } | null {
  const v = body[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') return invalid(`Invalid type for '${name}': expected a decimal, but got ${typeName(v)} instead.`, name, 'invalid_type');
  if (v < min) return invalid(`Invalid '${name}': decimal below minimum value. Expected a value >= ${min}, but got ${v} instead.`, name, 'decimal_below_min_value');
  if (v > max) return invalid(`Invalid '${name}': decimal above maximum value. Expected a value <= ${max}, but got ${v} instead.`, name, 'decimal_above_max_value');
  return null;
}

function checkTools(body: Record<string, unknown>): { error: Answer } | null {
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return invalid(`Invalid type for 'tools': expected an array of objects, but got ${typeName(tools)} instead.`, 'tools', 'invalid_type');
    for (let i = 0; i < tools.length; i++) {
      const name: unknown = (tools[i] as { function?: { name?: unknown } } | null)?.function?.name;
      if (typeof name !== 'string' || !name) return invalid(`Missing required parameter: 'tools[${i}].function.name'.`, `tools[${i}].function.name`, 'missing_required_parameter');
    }
  }
  const choice = body['tool_choice'];
  if (choice === undefined || choice === 'none' || choice === 'auto') return null;
  if (!Array.isArray(tools) || tools.length === 0) {
    return invalid("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'tool_choice', null);
  }
  if (choice === 'required') return null;
  const fn: unknown = typeof choice === 'object' && choice !== null && 'function' in choice ? choice.function : undefined;
  const name: unknown = typeof fn === 'object' && fn !== null && 'name' in fn ? fn.name : undefined;
  if (typeof name !== 'string') return invalid("Invalid value for 'tool_choice'.", 'tool_choice', 'invalid_value');
  if (!(tools as ToolDef[]).some((t) => t.function.name === name)) {
    return invalid(`Invalid value for 'tool_choice': function '${name}' is not among the 'tools'.`, 'tool_choice', 'invalid_value');
  }
  return null;
}

export function validateChat(raw: unknown): { body: ChatBody } | { error: Answer } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', null, null);
  }
  const body = raw as Record<string, unknown>;
  if (typeof body['model'] !== 'string' || !body['model']) return invalid('you must provide a model parameter', null, null);
  const problem =
    checkMessages(body['messages']) ??
    checkPositiveInt(body, 'max_tokens') ??
    checkPositiveInt(body, 'max_completion_tokens') ??
    checkPositiveInt(body, 'n') ??
    checkRange(body, 'temperature', 0, 2) ??
    checkRange(body, 'top_p', 0, 1) ??
    checkTools(body);
  if (problem) return problem;
  if (body['stream_options'] !== undefined && body['stream_options'] !== null && body['stream'] !== true) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options', 'invalid_value');
  }
  return { body: raw as ChatBody };
}
