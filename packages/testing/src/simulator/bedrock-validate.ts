import type { Answer } from './format.js';
import { nextId } from './text.js';

/**
 * Bedrock Converse request validation against the documented schema, and AWS's error answers: a status,
 * `x-amzn-errortype`, and `{"message": ...}`, with the messages Bedrock gives, so clients see the errors they would.
 */

const TOP_LEVEL = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'guardrailConfig',
  'additionalModelRequestFields',
  'promptVariables',
  'additionalModelResponseFieldPaths',
  'requestMetadata',
  'performanceConfig',
]);
const INFERENCE = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const BLOCKS = [
  'text',
  'image',
  'document',
  'video',
  'toolUse',
  'toolResult',
  'guardContent',
  'cachePoint',
  'reasoningContent',
  'citationsContent',
];
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const DOCUMENT_FORMATS = new Set(['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md']);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const TYPES: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};
const DEFAULT_MESSAGES: Record<string, string> = {
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ResourceNotFoundException: 'The specified model could not be found.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ThrottlingException: 'Too many requests, please wait before trying again.',
  InternalServerException: 'The server encountered an internal error while processing the request.',
  ServiceUnavailableException: 'The service is temporarily unable to handle the request.',
};

export function bedrockError(status: number, message: string | null, type?: string): Answer {
  const t = type ?? TYPES[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
  return {
    kind: 'json',
    status,
    body: { message: message ?? DEFAULT_MESSAGES[t] ?? `Simulated error ${status}.` },
    headers: {
      'x-amzn-errortype': `${t}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': nextId('sim-'),
    },
  };
}

const invalid = (message: string) => ({ error: bedrockError(400, message, 'ValidationException') });
type Problem = { error: Answer } | null;

export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

type Block = Record<string, unknown>;
type Message = { role: 'user' | 'assistant'; content: Block[] };
type ToolSpec = { name: string; inputSchema: { json: unknown } };
export type ConverseBody = {
  messages: Message[];
  system?: Array<{ text?: string }>;
  inferenceConfig?: { maxTokens?: number; stopSequences?: string[] };
  additionalModelResponseFieldPaths?: string[];
  toolConfig?: {
    tools: Array<{ toolSpec?: ToolSpec }>;
    toolChoice?: { auto?: object; any?: object; tool?: { name: string } };
  };
};

function checkBlock(b: unknown, at: string): Problem {
  if (!isObject(b)) return invalid(`The content block at ${at} must be an object.`);
  const keys = Object.keys(b).filter((k) => b[k] !== undefined);
  const unknown = keys.find((k) => !BLOCKS.includes(k));
  if (unknown)
    return invalid(
      `Malformed input request: #/${at.replace(/\./g, '/')}: extraneous key [${unknown}] is not permitted, please reformat your input and try again.`,
    );
  if (keys.length !== 1) return invalid(`The content block at ${at} must have exactly one member set.`);
  const text = b['text'];
  if (text !== undefined && (typeof text !== 'string' || text.trim() === ''))
    return invalid(
      `The text field in the ContentBlock object at ${at} is blank. Add text to the text field, and try again.`,
    );
  const image = b['image'];
  if (image !== undefined) {
    const img = isObject(image) ? image : {};
    const bytes = isObject(img['source']) ? img['source']['bytes'] : undefined;
    if (typeof img['format'] !== 'string' || !IMAGE_FORMATS.has(img['format']))
      return invalid(`The format of the image at ${at} must be one of png, jpeg, gif, webp.`);
    if (typeof bytes !== 'string' || bytes.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(bytes))
      return invalid(`The image at ${at} must have base64 source.bytes.`);
  }
  const doc = b['document'];
  if (doc !== undefined) {
    const d = isObject(doc) ? doc : {};
    if (typeof d['format'] !== 'string' || !DOCUMENT_FORMATS.has(d['format']))
      return invalid(`The format of the document at ${at} is not supported.`);
    if (typeof d['name'] !== 'string' || !/^[A-Za-z0-9 \-()[\]]+$/.test(d['name']))
      return invalid(
        `The document file name at ${at} can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets.`,
      );
  }
  const use = b['toolUse'];
  if (
    use !== undefined &&
    (!isObject(use) ||
      typeof use['toolUseId'] !== 'string' ||
      typeof use['name'] !== 'string' ||
      !isObject(use['input']))
  ) {
    return invalid(`The toolUse block at ${at} needs toolUseId, name and an object input.`);
  }
  const result = b['toolResult'];
  if (
    result !== undefined &&
    (!isObject(result) || typeof result['toolUseId'] !== 'string' || !Array.isArray(result['content']))
  ) {
    return invalid(`The toolResult block at ${at} needs toolUseId and content.`);
  }
  return null;
}

function ids(m: Message | undefined, field: 'toolUse' | 'toolResult'): string[] {
  return (m?.content ?? []).flatMap((b) => (isObject(b[field]) ? [String(b[field]['toolUseId'])] : []));
}

function checkMessages(raw: unknown): Problem {
  if (!Array.isArray(raw) || raw.length === 0)
    return invalid(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  for (let i = 0; i < raw.length; i++) {
    const m: unknown = raw[i];
    if (!isObject(m)) return invalid(`The message at messages.${i} must be an object.`);
    const extra = Object.keys(m).find((k) => k !== 'role' && k !== 'content');
    if (extra)
      return invalid(
        `Malformed input request: #/messages/${i}: extraneous key [${extra}] is not permitted, please reformat your input and try again.`,
      );
    if (m['role'] !== 'user' && m['role'] !== 'assistant')
      return invalid(
        `Malformed input request: #/messages/${i}/role: ${JSON.stringify(m['role'])} is not a valid enum value, please reformat your input and try again.`,
      );
    if (i === 0 && m['role'] !== 'user')
      return invalid(
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    if (i > 0 && (raw[i - 1] as Message).role === m['role'])
      return invalid(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    const content = m['content'];
    if (!Array.isArray(content) || content.length === 0)
      return invalid(
        `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`,
      );
    for (let j = 0; j < content.length; j++) {
      const bad = checkBlock(content[j], `messages.${i}.content.${j}`);
      if (bad) return bad;
    }
  }
  const list = raw as Message[];
  for (let i = 0; i < list.length; i++) {
    const results = ids(list[i], 'toolResult');
    if (!results.length) continue;
    const uses = ids(list[i - 1], 'toolUse');
    if (results.length > uses.length)
      return invalid(
        `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`,
      );
    const stray = results.find((id) => !uses.includes(id));
    if (stray)
      return invalid(
        `The toolUseId ${stray} at messages.${i}.content does not match any toolUse block of the previous turn.`,
      );
  }
  return null;
}

function checkTools(body: Record<string, unknown>): Problem {
  const tc = body['toolConfig'];
  const usesTools = (body['messages'] as Message[]).some(
    (m) => ids(m, 'toolUse').length || ids(m, 'toolResult').length,
  );
  if (tc === undefined)
    return usesTools
      ? invalid('The toolConfig field must be defined when using toolUse and toolResult content blocks.')
      : null;
  if (!isObject(tc) || !Array.isArray(tc['tools']) || tc['tools'].length === 0)
    return invalid('The value at toolConfig.tools must have at least 1 item.');
  const names: string[] = [];
  for (let i = 0; i < tc['tools'].length; i++) {
    const t: unknown = tc['tools'][i];
    const spec = isObject(t) ? t['toolSpec'] : undefined;
    if (isObject(t) && t['cachePoint'] !== undefined) continue;
    if (!isObject(spec) || typeof spec['name'] !== 'string' || !TOOL_NAME.test(spec['name']))
      return invalid(
        `The value at toolConfig.tools.${i}.toolSpec.name failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`,
      );
    if (!isObject(spec['inputSchema']) || !isObject(spec['inputSchema']['json']))
      return invalid(
        `The value at toolConfig.tools.${i}.toolSpec.inputSchema must hold a json schema object.`,
      );
    if (names.includes(spec['name']))
      return invalid(`The tool name ${spec['name']} appears more than once in toolConfig.tools.`);
    names.push(spec['name']);
  }
  const choice = tc['toolChoice'];
  if (choice === undefined) return null;
  const set = isObject(choice) ? Object.keys(choice) : [];
  if (set.length !== 1 || !['auto', 'any', 'tool'].includes(set[0]!))
    return invalid('The value at toolConfig.toolChoice must have exactly one of auto, any, tool.');
  if (set[0] === 'tool') {
    const name = (choice as Record<string, unknown>)['tool'];
    if (!isObject(name) || typeof name['name'] !== 'string' || !names.includes(name['name']))
      return invalid('The tool named in toolConfig.toolChoice.tool is not in toolConfig.tools.');
  }
  return null;
}

function checkInference(raw: unknown): Problem {
  if (raw === undefined) return null;
  if (!isObject(raw)) return invalid('The value at inferenceConfig must be an object.');
  const extra = Object.keys(raw).find((k) => !INFERENCE.has(k));
  if (extra)
    return invalid(
      `Malformed input request: #/inferenceConfig: extraneous key [${extra}] is not permitted, please reformat your input and try again.`,
    );
  const max = raw['maxTokens'];
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1))
    return invalid('The value at inferenceConfig.maxTokens must be greater than or equal to 1.');
  for (const k of ['temperature', 'topP'] as const) {
    const v = raw[k];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1))
      return invalid(`The value at inferenceConfig.${k} must be between 0 and 1.`);
  }
  const stop = raw['stopSequences'];
  if (
    stop !== undefined &&
    (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0))
  )
    return invalid('The value at inferenceConfig.stopSequences must be a list of non-empty strings.');
  return null;
}

export function validateConverse(raw: unknown): { body: ConverseBody } | { error: Answer } {
  if (!isObject(raw)) return invalid('Malformed input request, please reformat your input and try again.');
  const extra = Object.keys(raw).find((k) => !TOP_LEVEL.has(k));
  if (extra)
    return invalid(
      `Malformed input request: extraneous key [${extra}] is not permitted, please reformat your input and try again.`,
    );
  const system = raw['system'];
  const badSystem =
    system !== undefined &&
    (!Array.isArray(system) ||
      system.some(
        (s) =>
          !isObject(s) ||
          (s['text'] !== undefined && (typeof s['text'] !== 'string' || s['text'].trim() === '')),
      ))
      ? invalid('The text field in the SystemContentBlock object is blank or malformed.')
      : null;
  const fields = raw['additionalModelRequestFields'];
  const badFields =
    fields !== undefined && !isObject(fields)
      ? invalid('The value at additionalModelRequestFields must be an object.')
      : null;
  const problem =
    checkMessages(raw['messages']) ??
    badSystem ??
    checkInference(raw['inferenceConfig']) ??
    checkTools(raw) ??
    badFields;
  if (problem) return problem;
  return { body: raw as unknown as ConverseBody };
}
