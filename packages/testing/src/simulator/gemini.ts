import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { capPieces, contentText, embed, fillerPieces, nextId, promptTokens, replyPieces, schemaArguments, tokensOf } from './text.js';
import { stopAt } from './stop-sequences.js';

/**
 * The Gemini wire format (generativelanguage v1beta): POST /v1beta/models/{model}:generateContent (JSON) and
 * :streamGenerateContent (`?alt=sse`: `data: <GenerateContentResponse>` events separated by CRLF CRLF, no [DONE];
 * without alt=sse: one JSON array of the responses). The model is in the path, so the route is a prefix route.
 * Validation answers Google's error shape `{"error":{"code","message","status"}}`; a function call is answered
 * when toolConfig forces one (mode ANY, optionally restricted by allowedFunctionNames), as the OpenAI format does.
 */

const PREFIX = '/v1beta/models/';
const SSE = 'text/event-stream';
const TOP_LEVEL = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'safetySettings', 'cachedContent', 'labels']);
const GENERATION = new Set([
  'temperature',
  'topP',
  'topK',
  'maxOutputTokens',
  'stopSequences',
  'candidateCount',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'responseLogprobs',
  'logprobs',
  'thinkingConfig',
  'mediaResolution',
]);
const PART_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const PART_EXTRA = new Set(['thought', 'thoughtSignature', 'videoMetadata']);
const MODES = new Set(['AUTO', 'ANY', 'NONE', 'VALIDATED']);

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  401: 'Request had invalid authentication credentials.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'Resource has been exhausted (e.g. check quota).',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export function geminiError(code: number, message: string | null): Answer {
  const status = STATUS_NAMES[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  return { kind: 'json', status: code, body: { error: { code, message: message ?? DEFAULT_MESSAGES[code] ?? `Simulated error ${code}.`, status } } };
}

function invalid(message: string): { error: Answer } {
  return { error: geminiError(400, message) };
}

type Part = { text?: string; functionCall?: { name: string }; functionResponse?: { name: string } };
type Content = { role?: string; parts: Part[] };
type Declaration = { name: string; parameters?: unknown };
type GenerateBody = {
  contents: Content[];
  systemInstruction?: Content;
  tools?: Array<{ functionDeclarations?: Declaration[] }>;
  toolConfig?: { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } };
  generationConfig?: { maxOutputTokens?: number; candidateCount?: number; stopSequences?: string[] };
};

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `/v1beta/models/gemini-2.0-flash:generateContent` → model and method (null when the path has no `:`). */
function target(path: string): { model: string; method: string } | null {
  const rest = decodeURIComponent(path.slice(PREFIX.length));
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return null;
  return { model: rest.slice(0, colon), method: rest.slice(colon + 1) };
}

function checkParts(parts: unknown, at: string): { error: Answer } | null {
  if (parts === undefined || (Array.isArray(parts) && parts.length === 0)) return invalid(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.`);
  if (!Array.isArray(parts)) return invalid(`Invalid value at '${at}.parts' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), expected a list`);
  for (let j = 0; j < parts.length; j++) {
    const p: unknown = parts[j];
    const pat = `${at}.parts[${j}]`;
    if (!isObject(p)) return invalid(`Invalid value at '${pat}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part)`);
    for (const k of Object.keys(p)) if (!PART_FIELDS.includes(k) && !PART_EXTRA.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}" at '${pat}': Cannot find field.`);
    const data = PART_FIELDS.filter((f) => p[f] !== undefined);
    if (data.length === 0) return invalid(`* GenerateContentRequest.${pat}.data: required oneof field 'data' must have one initialized field`);
    if (data.length > 1) return invalid(`Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${data[1]}'`);
    if (p['text'] !== undefined && typeof p['text'] !== 'string') return invalid(`Invalid value at '${pat}.text' (TYPE_STRING)`);
  }
  return null;
}

function calls(c: Content, field: 'functionCall' | 'functionResponse'): number {
  return c.parts.filter((p) => p[field] !== undefined).length;
}

function checkContents(contents: unknown): { error: Answer } | null {
  if (contents === undefined || (Array.isArray(contents) && contents.length === 0)) return invalid('* GenerateContentRequest.contents: contents is not specified');
  if (!Array.isArray(contents)) return invalid("Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), expected a list");
  for (let i = 0; i < contents.length; i++) {
    const c: unknown = contents[i];
    const at = `contents[${i}]`;
    if (!isObject(c)) return invalid(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)`);
    for (const k of Object.keys(c)) if (k !== 'role' && k !== 'parts') return invalid(`Invalid JSON payload received. Unknown name "${k}" at '${at}': Cannot find field.`);
    const role = c['role'];
    if (role !== undefined && role !== 'user' && role !== 'model') return invalid('Please use a valid role: user, model.');
    const bad = checkParts(c['parts'], at);
    if (bad) return bad;
  }
  // every function call turn is answered by a turn with as many function responses
  const list = contents as Content[];
  for (let i = 0; i < list.length; i++) {
    const n = calls(list[i]!, 'functionCall');
    const responses = calls(list[i]!, 'functionResponse');
    if (responses > 0 && (i === 0 || calls(list[i - 1]!, 'functionCall') !== responses)) {
      return invalid('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
    }
    if (n > 0 && i + 1 < list.length && calls(list[i + 1]!, 'functionResponse') !== n) {
      return invalid('Please ensure that function call turn comes immediately after a user turn or after a function response turn.');
    }
  }
  return null;
}

function checkTools(body: Record<string, unknown>): { error: Answer } | null {
  const tools = body['tools'];
  const names: string[] = [];
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return invalid("Invalid value at 'tools', expected a list");
    for (let i = 0; i < tools.length; i++) {
      const t: unknown = tools[i];
      if (!isObject(t)) return invalid(`Invalid value at 'tools[${i}]'`);
      const decls = t['functionDeclarations'];
      if (decls === undefined) continue;
      if (!Array.isArray(decls)) return invalid(`Invalid value at 'tools[${i}].function_declarations', expected a list`);
      for (let j = 0; j < decls.length; j++) {
        const d: unknown = decls[j];
        const name = isObject(d) ? d['name'] : undefined;
        if (typeof name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/.test(name)) {
          return invalid(`* GenerateContentRequest.tools[${i}].function_declarations[${j}].name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 128.`);
        }
        const params = (d as Record<string, unknown>)['parameters'];
        if (isObject(params) && JSON.stringify(params).includes('"additionalProperties"')) {
          return invalid(`Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[${i}].function_declarations[${j}].parameters': Cannot find field.`);
        }
        names.push(name);
      }
    }
  }
  const config = body['toolConfig'];
  if (config === undefined) return null;
  const fc = isObject(config) ? config['functionCallingConfig'] : undefined;
  if (!isObject(fc)) return invalid("Invalid value at 'tool_config.function_calling_config'");
  const mode = fc['mode'];
  if (mode !== undefined && (typeof mode !== 'string' || !MODES.has(mode))) {
    return invalid(`Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), ${JSON.stringify(mode)}`);
  }
  const allowed = fc['allowedFunctionNames'];
  if (allowed !== undefined) {
    if (mode !== 'ANY' && mode !== 'VALIDATED') return invalid('* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: only allowed when mode is ANY.');
    if (!Array.isArray(allowed) || allowed.some((n) => typeof n !== 'string' || !names.includes(n))) {
      return invalid('* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: must be names of declared functions.');
    }
  }
  return null;
}

function checkGeneration(g: unknown): { error: Answer } | null {
  if (g === undefined) return null;
  if (!isObject(g)) return invalid("Invalid value at 'generation_config'");
  for (const k of Object.keys(g)) if (!GENERATION.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}" at 'generation_config': Cannot find field.`);
  const max = g['maxOutputTokens'];
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) return invalid('* GenerateContentRequest.generation_config.max_output_tokens: must be positive.');
  const n = g['candidateCount'];
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 8)) return invalid('* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8.');
  const t = g['temperature'];
  if (t !== undefined && (typeof t !== 'number' || t < 0 || t > 2)) return invalid('* GenerateContentRequest.generation_config.temperature: must be between 0 and 2.');
  const schema = g['responseSchema'];
  if (schema !== undefined && JSON.stringify(schema).includes('"additionalProperties"')) {
    return invalid(`Invalid JSON payload received. Unknown name "additionalProperties" at 'generation_config.response_schema': Cannot find field.`);
  }
  return null;
}

export function validateGenerate(raw: unknown): { body: GenerateBody } | { error: Answer } {
  if (!isObject(raw)) return invalid('Invalid JSON payload received. Expected an object.');
  for (const k of Object.keys(raw)) if (!TOP_LEVEL.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
  const system = raw['systemInstruction'];
  const problem =
    checkContents(raw['contents']) ??
    (system !== undefined ? (isObject(system) ? checkParts(system['parts'], 'system_instruction') : invalid("Invalid value at 'system_instruction'")) : null) ??
    checkTools(raw) ??
    checkGeneration(raw['generationConfig']);
  if (problem) return problem;
  return { body: raw as GenerateBody };
}

/* ---------------- answers ---------------- */

type Reply = { text: string[]; call: { name: string; args: string } | null; finish: 'STOP' | 'MAX_TOKENS' };

function lastUserText(body: GenerateBody): string {
  for (let i = body.contents.length - 1; i >= 0; i--) {
    const c = body.contents[i]!;
    if (c.role !== 'model') {
      const t = contentText(c.parts);
      if (t) return t;
    }
  }
  return '';
}

function forcedCall(body: GenerateBody): Declaration | null {
  const fc = body.toolConfig?.functionCallingConfig;
  if (fc?.mode !== 'ANY') return null;
  const decls = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const allowed = fc.allowedFunctionNames;
  return (allowed?.length ? decls.find((d) => d.name === allowed[0]) : decls[0]) ?? null;
}

function reply(body: GenerateBody, gen: Generation): Reply {
  const hint = lastUserText(body);
  const decl = forcedCall(body);
  if (decl) return { text: [], call: { name: decl.name, args: schemaArguments(decl.parameters, hint) }, finish: 'STOP' };
  // a stop sequence ends the reply before it; Gemini says STOP, as for a natural end
  const stopped = stopAt(gen.outputTokens !== null ? fillerPieces(gen.outputTokens) : replyPieces(hint), body.generationConfig?.stopSequences);
  const cap = capPieces(stopped.pieces, body.generationConfig?.maxOutputTokens ?? null);
  return { text: cap.pieces, call: null, finish: cap.capped ? 'MAX_TOKENS' : 'STOP' };
}

function usageMetadata(body: GenerateBody, r: Reply, n: number, done: boolean) {
  const system = body.systemInstruction ? [{ content: body.systemInstruction.parts }] : [];
  const prompt = promptTokens([...system, ...body.contents.map((c) => ({ content: c.parts }))]);
  const out = done ? tokensOf(r.call ? r.call.name + r.call.args : r.text.join('')) * n : 0;
  const u: Record<string, unknown> = { promptTokenCount: prompt, totalTokenCount: prompt + out, promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }] };
  if (done) u['candidatesTokenCount'] = out;
  return u;
}

function candidates(n: number, parts: unknown[], finish: string | null) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(finish ? { content: { parts, role: 'model' }, finishReason: finish, index: i } : { content: { parts, role: 'model' }, index: i });
  return out;
}

function responses(body: GenerateBody, r: Reply, model: string, stream: boolean): unknown[] {
  const n = body.generationConfig?.candidateCount ?? 1;
  const id = nextId('sim');
  const head = { modelVersion: model, responseId: id };
  if (r.call) {
    const parts = [{ functionCall: { name: r.call.name, args: JSON.parse(r.call.args) as unknown } }];
    return [{ candidates: candidates(n, parts, r.finish), usageMetadata: usageMetadata(body, r, n, true), ...head }];
  }
  if (!stream) return [{ candidates: candidates(n, [{ text: r.text.join('') }], r.finish), usageMetadata: usageMetadata(body, r, n, true), ...head }];
  const pieces = r.text.length ? r.text : [''];
  return pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    return { candidates: candidates(n, [{ text: piece }], last ? r.finish : null), usageMetadata: usageMetadata(body, r, n, last), ...head };
  });
}

/** One EmbedContentRequest: `content.parts[].text`, optional `outputDimensionality`; `model` (batch) must be this one. */
function embedOne(r: unknown, model: string, at: string): { values: number[] } | { error: Answer } {
  if (!isObject(r)) return invalid(`${at}: must be an object`);
  if (r['model'] !== undefined && r['model'] !== `models/${model}`)
    return invalid(`${at}.model: model \`${JSON.stringify(r['model'])}\` does not match the request path model \`models/${model}\``);
  const content = r['content'];
  const parts = isObject(content) ? content['parts'] : undefined;
  if (!Array.isArray(parts) || parts.length === 0) return invalid(`${at}.content: must have at least one part`);
  let text = '';
  for (const part of parts) {
    if (!isObject(part) || typeof part['text'] !== 'string') return invalid(`${at}.content.parts: only text parts can be embedded`);
    text += part['text'];
  }
  const dims = r['outputDimensionality'];
  if (dims !== undefined && (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1))
    return invalid(`${at}.output_dimensionality: must be a positive integer`);
  return { values: embed(text, typeof dims === 'number' ? dims : 768) };
}

/** `:embedContent` → `{embedding: {values}}`; `:batchEmbedContents` → `{embeddings: [{values}]}` (Gemini gives no token count). */
function embedContents(raw: unknown, model: string, batch: boolean): Answer {
  if (!batch) {
    const one = embedOne(raw, model, 'EmbedContentRequest');
    return 'error' in one ? one.error : { kind: 'json', status: 200, body: { embedding: { values: one.values } } };
  }
  const requests = isObject(raw) ? raw['requests'] : undefined;
  if (!Array.isArray(requests) || requests.length === 0) return invalid('BatchEmbedContentsRequest.requests: must not be empty').error;
  const embeddings: Array<{ values: number[] }> = [];
  for (let i = 0; i < requests.length; i++) {
    const one = embedOne(requests[i], model, `BatchEmbedContentsRequest.requests[${i}]`);
    if ('error' in one) return one.error;
    embeddings.push({ values: one.values });
  }
  return { kind: 'json', status: 200, body: { embeddings } };
}

function generate(raw: unknown, gen: Generation, req: RouteRequest): Answer {
  const t = target(req.path);
  if (t && (t.method === 'embedContent' || t.method === 'batchEmbedContents')) return embedContents(raw, t.model, t.method === 'batchEmbedContents');
  if (!t || (t.method !== 'generateContent' && t.method !== 'streamGenerateContent')) return geminiError(404, `Method not found: ${req.path}`);
  const checked = validateGenerate(raw);
  if ('error' in checked) return checked.error;
  const stream = t.method === 'streamGenerateContent';
  const list = responses(checked.body, reply(checked.body, gen), t.model, stream);
  if (!stream) return { kind: 'json', status: 200, body: list[0] };
  if (new URLSearchParams(req.query).get('alt') === 'sse') return { kind: 'stream', contentType: SSE, events: list.map((r) => `data: ${JSON.stringify(r)}\r\n\r\n`) };
  return { kind: 'json', status: 200, body: list };
}

const routes: Route[] = [{ method: 'POST', path: PREFIX, match: 'prefix', handle: generate, model: (req) => target(req.path)?.model ?? null }];

export const geminiFormat: WireFormat = {
  routes,
  error: (status, message) => geminiError(status, message),
  malformed(stream) {
    if (stream) return { kind: 'stream', contentType: SSE, events: ['data: {"candidates": [{"content": {"parts": [{"text": \r\n\r\n'] };
    return { kind: 'raw', status: 200, contentType: 'application/json; charset=UTF-8', text: '{"candidates": [{"content": {' };
  },
};
