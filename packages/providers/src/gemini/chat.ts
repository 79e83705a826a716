import { GatewayError, type ChatCompletion, type ChatCompletionRequest, type ChatMessage, type ContentPart, type FinishReason, type ToolCall, type Usage } from '@gw/contracts';
import { joinUrl } from '../openai-compatible/chat.js';
import { asRecord, guessMimeType, isHttpUrl, num, parseDataUrl, parseToolArguments, partsOf, stopList, systemText, textOf, unsupported } from '../shared/content.js';
import type { ChatContext, ResolvedProvider, TranslateOptions, UpstreamRequest } from '../types.js';

/**
 * OpenAI chat completions ⇄ Gemini generateContent / streamGenerateContent?alt=sse (v1beta).
 *
 * Request decisions:
 * - system and developer messages → `systemInstruction`; user → role `user`, assistant → role `model`; tool results
 *   are `functionResponse` parts of a user turn (consecutive results merged into one turn, as Gemini wants all the
 *   answers to one model turn together). Gemini names a function response by function name, not call id: the name
 *   is found from the assistant tool call with that id.
 * - images: data URLs → inlineData; http(s) URLs → fileData with a MIME type guessed from the extension (no fetch).
 * - tools → one `functionDeclarations` tool; parameter and response schemas are reduced to the OpenAPI subset
 *   Gemini accepts (cleanSchema).
 * - n → candidateCount; seed, penalties, stop, temperature, top_p, max tokens → generationConfig.
 * - logprobs are not translated (dropped, or a 400 with unsupportedParams 'reject').
 */

export type GeminiPart =
  | { text: string; thought?: boolean }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { mimeType: string; fileUri: string } }
  | { functionCall: { name: string; args: unknown } }
  | { functionResponse: { name: string; response: Record<string, unknown> } };
export type GeminiContent = { role: 'user' | 'model'; parts: GeminiPart[] };

type FunctionDeclaration = { name: string; description?: string; parameters?: Record<string, unknown> };
type GenerationConfig = {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseSchema?: Record<string, unknown>;
};
export type GeminiRequest = {
  contents: GeminiContent[];
  systemInstruction?: { parts: Array<{ text: string }> };
  tools?: Array<{ functionDeclarations: FunctionDeclaration[] }>;
  toolConfig?: { functionCallingConfig: { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } };
  generationConfig?: GenerationConfig;
};

/** The JSON-schema keywords Gemini's OpenAPI-subset `Schema` accepts; every other keyword is removed. */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'items',
  'minItems',
  'maxItems',
  'properties',
  'required',
  'propertyOrdering',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'anyOf',
  'default',
  'example',
]);

/**
 * A JSON schema reduced to what Gemini accepts: unknown keywords ($schema, additionalProperties, strict, $defs,
 * const...) removed, `const` kept as a one-value enum, `type: [T, "null"]` turned into `type: T, nullable: true`.
 */
export function cleanSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(cleanSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const src = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(src)) {
    const v = src[key];
    if (key === 'const') {
      out['enum'] = [v];
      continue;
    }
    if (!SCHEMA_KEYS.has(key)) continue;
    if (key === 'properties' && v && typeof v === 'object') {
      const props: Record<string, unknown> = {};
      for (const [name, p] of Object.entries(v as Record<string, unknown>)) props[name] = cleanSchema(p);
      out['properties'] = props;
    } else if (key === 'type' && Array.isArray(v)) {
      const types = (v as unknown[]).filter((t) => t !== 'null');
      if (types.length !== v.length) out['nullable'] = true;
      if (types.length === 1) out['type'] = types[0];
      else if (types.length > 1) out['anyOf'] = types.map((t) => ({ type: t }));
    } else if (key === 'items' || key === 'anyOf') out[key] = cleanSchema(v);
    else out[key] = v;
  }
  return out;
}

function mediaPart(url: string, param: string): GeminiPart {
  const data = parseDataUrl(url);
  if (data) return { inlineData: { mimeType: data.mimeType, data: data.data } };
  if (isHttpUrl(url)) return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
  throw new GatewayError('INVALID_REQUEST', `${param}: an image must be an http(s) URL or a base64 data URL`, { param });
}

function userParts(content: string | ContentPart[], param: string): GeminiPart[] {
  const out: GeminiPart[] = [];
  const parts = partsOf(content);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        if (p.text.length) out.push({ text: p.text });
        break;
      case 'refusal':
        if (p.refusal.length) out.push({ text: p.refusal });
        break;
      case 'image_url':
        out.push(mediaPart(p.image_url.url, at));
        break;
      case 'input_audio':
        out.push({ inlineData: { mimeType: `audio/${p.input_audio.format}`, data: p.input_audio.data } });
        break;
      case 'file': {
        const fileData = p.file['file_data'];
        const data = typeof fileData === 'string' ? parseDataUrl(fileData) : null;
        if (!data) throw new GatewayError('INVALID_REQUEST', `${at}: only files given inline as base64 data URLs are supported by this provider`, { param: at });
        out.push({ inlineData: { mimeType: data.mimeType, data: data.data } });
        break;
      }
    }
  }
  return out;
}

/** A tool result as the object Gemini wants: a JSON object as it is, anything else under `content`. */
function functionResponse(content: string | ContentPart[]): Record<string, unknown> {
  const text = textOf(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { content: parsed };
  } catch {
    return { content: text };
  }
}

export function toGeminiContents(messages: readonly ChatMessage[]): GeminiContent[] {
  const out: GeminiContent[] = [];
  const names = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: GeminiPart[]) => {
    if (!parts.length) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else out.push({ role, parts });
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        break;
      case 'user':
        push('user', userParts(m.content, `${param}.content`));
        break;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = textOf(m.content);
        if (text.length) parts.push({ text });
        const calls = m.tool_calls ?? [];
        for (let j = 0; j < calls.length; j++) {
          const c = calls[j]!;
          names.set(c.id, c.function.name);
          parts.push({ functionCall: { name: c.function.name, args: parseToolArguments(c.function.arguments, `${param}.tool_calls[${j}].function.arguments`) } });
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = names.get(m.tool_call_id);
        if (name === undefined) {
          throw new GatewayError('INVALID_REQUEST', `${param}.tool_call_id: no earlier assistant tool call has the id ${m.tool_call_id}`, { param: `${param}.tool_call_id` });
        }
        push('user', [{ functionResponse: { name, response: functionResponse(m.content) } }]);
        break;
      }
    }
  }
  return out;
}

function hasProperties(schema: Record<string, unknown> | undefined): boolean {
  const props = schema?.['properties'];
  return !!props && typeof props === 'object' && Object.keys(props).length > 0;
}

export function toGeminiRequest(req: ChatCompletionRequest, opts: TranslateOptions): GeminiRequest {
  const body: GeminiRequest = { contents: toGeminiContents(req.messages) };
  const system = systemText(req.messages);
  if (system !== null) body.systemInstruction = { parts: [{ text: system }] };

  if (req.tools?.length) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => {
          const d: FunctionDeclaration = { name: t.function.name };
          if (t.function.description) d.description = t.function.description;
          // Gemini rejects an object schema without properties: a tool without arguments has no `parameters`
          if (hasProperties(t.function.parameters)) d.parameters = cleanSchema(t.function.parameters) as Record<string, unknown>;
          return d;
        }),
      },
    ];
    const c = req.tool_choice;
    if (c === 'auto') body.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
    else if (c === 'none') body.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (c === 'required') body.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (c) body.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [c.function.name] } };
  }

  const g: GenerationConfig = {};
  if (req.temperature !== null && req.temperature !== undefined) g.temperature = req.temperature;
  if (req.top_p !== null && req.top_p !== undefined) g.topP = req.top_p;
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (max !== null && max !== undefined) g.maxOutputTokens = max;
  const stop = stopList(req.stop);
  if (stop) g.stopSequences = stop;
  if (req.n !== null && req.n !== undefined && req.n > 1) g.candidateCount = req.n;
  if (req.seed !== null && req.seed !== undefined) g.seed = req.seed;
  if (req.presence_penalty !== null && req.presence_penalty !== undefined) g.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty !== null && req.frequency_penalty !== undefined) g.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (rf?.type === 'json_object') g.responseMimeType = 'application/json';
  else if (rf?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    if (rf.json_schema.schema) g.responseSchema = cleanSchema(rf.json_schema.schema) as Record<string, unknown>;
  }
  if (Object.keys(g).length) body.generationConfig = g;

  if (req.logprobs) unsupported('logprobs', opts.unsupportedParams);
  if (req.top_logprobs !== null && req.top_logprobs !== undefined) unsupported('top_logprobs', opts.unsupportedParams);
  return body;
}

/** `gemini-2.0-flash` or `models/gemini-2.0-flash` → the path segment of the model. */
export function modelPath(model: string): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return encodeURIComponent(name);
}

export function geminiHeaders(provider: ResolvedProvider, accept: string): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept };
  if (provider.apiKey) h['x-goog-api-key'] = provider.apiKey;
  for (const k in provider.headers) h[k.toLowerCase()] = provider.headers[k] as string;
  return h;
}

export function buildChatRequest(req: ChatCompletionRequest, stream: boolean, provider: ResolvedProvider, ctx: ChatContext, opts: TranslateOptions): UpstreamRequest {
  const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    method: 'POST',
    url: joinUrl(provider.baseUrl, `/v1beta/models/${modelPath(ctx.model)}:${method}`),
    headers: geminiHeaders(provider, stream ? 'text/event-stream' : 'application/json'),
    body: JSON.stringify(toGeminiRequest(req, opts)),
  };
}

/* ---------------- response ---------------- */

export function finishReason(reason: unknown): FinishReason | null {
  switch (reason) {
    case undefined:
    case null:
      return null;
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      return 'stop'; // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED
      // (STOP is a natural end or a stop sequence alike: Gemini does not say which, so no match is marked)
  }
}

/**
 * usageMetadata → OpenAI usage. As with OpenAI reasoning models, completion tokens include the thinking tokens
 * (Gemini bills thoughts as output) and reasoning_tokens says how many of them were thoughts.
 */
export function usageOf(u: Record<string, unknown>): Usage {
  const prompt = num(u['promptTokenCount']) + num(u['toolUsePromptTokenCount']);
  const thoughts = num(u['thoughtsTokenCount']);
  const completion = num(u['candidatesTokenCount']) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: num(u['cachedContentTokenCount']) },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

export function completionId(ctx: ChatContext): string {
  return `chatcmpl-${ctx.requestId}`;
}

/** Tool call ids: Gemini gives none before 2.5 (`functionCall.id` when it does); ours are unique per request. */
export function toolCallId(ctx: ChatContext, fc: Record<string, unknown>, n: number): string {
  return typeof fc['id'] === 'string' && fc['id'] ? fc['id'] : `call_${ctx.requestId}_${n}`;
}

export type CandidateParts = { text: string; hasText: boolean; reasoning: string; toolCalls: ToolCall[] };

export function readParts(parts: unknown, ctx: ChatContext, nextTool: () => number): CandidateParts {
  const out: CandidateParts = { text: '', hasText: false, reasoning: '', toolCalls: [] };
  if (!Array.isArray(parts)) return out;
  for (const raw of parts as unknown[]) {
    const p = asRecord(raw, 'content part');
    if (typeof p['text'] === 'string') {
      if (p['thought'] === true) out.reasoning += p['text'];
      else {
        out.text += p['text'];
        out.hasText = true;
      }
    } else if (p['functionCall'] && typeof p['functionCall'] === 'object') {
      const fc = p['functionCall'] as Record<string, unknown>;
      out.toolCalls.push({ id: toolCallId(ctx, fc, nextTool()), type: 'function', function: { name: String(fc['name']), arguments: JSON.stringify(fc['args'] ?? {}) } });
    }
  }
  return out;
}

export function parseChatResponse(body: unknown, ctx: ChatContext): ChatCompletion {
  const b = asRecord(body, 'generateContent answer');
  const candidates = Array.isArray(b['candidates']) ? (b['candidates'] as unknown[]) : [];
  let tools = 0;
  const choices: ChatCompletion['choices'] = [];
  if (candidates.length === 0) {
    // the prompt itself was blocked (promptFeedback.blockReason): no candidate at all
    if (!b['promptFeedback']) throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent an answer without candidates');
    choices.push({ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' });
  }
  for (let i = 0; i < candidates.length; i++) {
    const c = asRecord(candidates[i], 'candidate');
    const parts = readParts((c['content'] as Record<string, unknown> | undefined)?.['parts'], ctx, () => tools++);
    const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: parts.hasText ? parts.text : null };
    if (parts.toolCalls.length) message.tool_calls = parts.toolCalls;
    if (parts.reasoning.length) message.reasoning_content = parts.reasoning;
    let finish = finishReason(c['finishReason']);
    if (parts.toolCalls.length && finish === 'stop') finish = 'tool_calls';
    choices.push({ index: typeof c['index'] === 'number' ? c['index'] : i, message, finish_reason: finish });
  }
  const completion: ChatCompletion = {
    id: completionId(ctx),
    object: 'chat.completion',
    created: ctx.created,
    model: typeof b['modelVersion'] === 'string' ? b['modelVersion'] : ctx.model,
    choices,
  };
  const u = b['usageMetadata'];
  if (u && typeof u === 'object') completion.usage = usageOf(u as Record<string, unknown>);
  return completion;
}
