import type { Answer, Generation, Route, WireFormat } from './format.js';
import { validateChat, type ChatBody, type ToolDef } from './openai-validate.js';
import { argumentDeltas, capPieces, contentText, embed, fillerPieces, nextId, promptTokens, replyPieces, schemaArguments, tokensOf } from './text.js';
import { stopAt } from './stop-sequences.js';

/**
 * The OpenAI wire format: chat completions (JSON and SSE, text and tool calls), embeddings and the model list.
 * Answers are deterministic: the text is derived from the last user message, the tool arguments from the
 * tool's JSON schema.
 */

const SSE = 'text/event-stream; charset=utf-8';
const FINGERPRINT = 'fp_simulator';
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'sim-small', 'sim-large', 'text-embedding-3-small'];

export function openaiError(status: number, message: string, type: string, param: string | null = null, code: string | null = null): Answer {
  return { kind: 'json', status, body: { error: { message, type, param, code } } };
}

const DEFAULT_ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: { message: 'You are not allowed to access this resource.', type: 'invalid_request_error', code: null },
  404: { message: 'The model does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' },
  429: { message: 'Rate limit reached for requests. Please try again later.', type: 'requests', code: 'rate_limit_exceeded' },
  500: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null },
  502: { message: 'Bad gateway.', type: 'server_error', code: null },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', code: null },
  504: { message: 'Gateway timeout.', type: 'server_error', code: null },
};

type Choice = { content: string[]; toolCall: { id: string; name: string; arguments: string } | null; finish: 'stop' | 'length' | 'tool_calls' };

function lastUserText(body: ChatBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role === 'user') return contentText(m.content);
  }
  return '';
}

function chosenTool(body: ChatBody): ToolDef | null {
  const tools = body.tools;
  if (!tools?.length) return null;
  const choice = body.tool_choice;
  if (choice === 'required') return tools[0]!;
  if (choice && typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name) ?? null;
  return null;
}

function answerChoice(body: ChatBody, gen: Generation): Choice {
  const hint = lastUserText(body);
  const tool = chosenTool(body);
  if (tool) return { content: [], toolCall: { id: nextId('call_'), name: tool.function.name, arguments: schemaArguments(tool.function.parameters, hint) }, finish: 'tool_calls' };
  // a stop sequence ends the reply before it; OpenAI says `stop`, as for a natural end
  const stops = typeof body.stop === 'string' ? [body.stop] : body.stop;
  const stopped = stopAt(gen.outputTokens !== null ? fillerPieces(gen.outputTokens) : replyPieces(hint), stops);
  const cap = capPieces(stopped.pieces, body.max_completion_tokens ?? body.max_tokens ?? null);
  return { content: cap.pieces, toolCall: null, finish: cap.capped ? 'length' : 'stop' };
}

function usageOf(body: ChatBody, choice: Choice, n: number) {
  const text = choice.toolCall ? choice.toolCall.name + choice.toolCall.arguments : choice.content.join('');
  const prompt = promptTokens(body.messages);
  const completion = tokensOf(text) * n;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function completion(body: ChatBody, choice: Choice, n: number): Answer {
  const message = choice.toolCall
    ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: choice.toolCall.id, type: 'function', function: { name: choice.toolCall.name, arguments: choice.toolCall.arguments } }] }
    : { role: 'assistant', content: choice.content.join(''), refusal: null };
  const choices = [];
  for (let i = 0; i < n; i++) choices.push({ index: i, message, logprobs: null, finish_reason: choice.finish });
  return {
    kind: 'json',
    status: 200,
    body: {
      id: nextId('chatcmpl-sim'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices,
      usage: usageOf(body, choice, n),
      system_fingerprint: FINGERPRINT,
    },
  };
}

function streamEvents(body: ChatBody, choice: Choice, n: number): Answer {
  const includeUsage = body.stream_options?.include_usage === true;
  const head = `data: {"id":"${nextId('chatcmpl-sim')}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(body.model)},"system_fingerprint":"${FINGERPRINT}",`;
  const tail = includeUsage ? ',"usage":null}\n\n' : '}\n\n';
  const events: string[] = [];
  const each = (delta: (i: number) => unknown, finish: string | null) => {
    for (let i = 0; i < n; i++) {
      events.push(`${head}"choices":[{"index":${i},"delta":${JSON.stringify(delta(i))},"logprobs":null,"finish_reason":${finish ? `"${finish}"` : 'null'}}]${tail}`);
    }
  };
  const call = choice.toolCall;
  if (call) {
    each(() => ({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }), null);
    for (const part of argumentDeltas(call.arguments)) each(() => ({ tool_calls: [{ index: 0, function: { arguments: part } }] }), null);
  } else {
    each(() => ({ role: 'assistant', content: '', refusal: null }), null);
    for (const piece of choice.content) each(() => ({ content: piece }), null);
  }
  each(() => ({}), choice.finish);
  if (includeUsage) events.push(`${head}"choices":[],"usage":${JSON.stringify(usageOf(body, choice, n))}}\n\n`);
  events.push('data: [DONE]\n\n');
  return { kind: 'stream', contentType: SSE, events };
}

/** POST /v1/chat/completions (exported: the OpenAI-flavoured formats — azure, mistral, deepseek — answer with it). */
export function chat(raw: unknown, gen: Generation): Answer {
  const checked = validateChat(raw);
  if ('error' in checked) return checked.error;
  const body = checked.body;
  const n = body.n ?? 1;
  const choice = answerChoice(body, gen);
  return body.stream ? streamEvents(body, choice, n) : completion(body, choice, n);
}

type EmbeddingsBody = { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown };

function inputTexts(input: unknown): string[] | null {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((x) => typeof x === 'string')) return input;
  // token arrays: a number[] is one input, a number[][] many; their "text" is the ids joined
  if (input.every((x) => typeof x === 'number')) return [input.join(' ')];
  if (input.every((x) => Array.isArray(x))) return (input as unknown[][]).map((x) => x.join(' '));
  return null;
}

function base64Floats(v: number[]): string {
  return Buffer.from(new Float32Array(v).buffer).toString('base64');
}

export function embeddings(raw: unknown): Answer {
  const body = (raw ?? {}) as EmbeddingsBody;
  if (typeof body.model !== 'string' || !body.model) return openaiError(400, 'you must provide a model parameter', 'invalid_request_error');
  const texts = inputTexts(body.input);
  if (!texts) return openaiError(400, "'input' must be a string, an array of strings, or an array of token arrays.", 'invalid_request_error', 'input', 'invalid_type');
  const dims = typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : 256;
  const asBase64 = body.encoding_format === 'base64';
  let tokens = 0;
  const data = texts.map((t, index) => {
    tokens += tokensOf(t);
    const v = embed(t, dims);
    return { object: 'embedding', index, embedding: asBase64 ? base64Floats(v) : v };
  });
  return { kind: 'json', status: 200, body: { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
}

function models(): Answer {
  const created = 1_700_000_000;
  return { kind: 'json', status: 200, body: { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'simulator' })) } };
}

const routes: Route[] = [
  { method: 'POST', path: '/v1/chat/completions', handle: chat },
  { method: 'POST', path: '/v1/embeddings', handle: (b) => embeddings(b) },
  { method: 'GET', path: '/v1/models', handle: () => models() },
];

export const openaiFormat: WireFormat = {
  routes,
  error(status, message) {
    const d = DEFAULT_ERRORS[status] ?? { message: `Simulated error ${status}.`, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
    return openaiError(status, message ?? d.message, d.type, null, d.code);
  },
  malformed(stream) {
    if (stream) return { kind: 'stream', contentType: SSE, events: ['data: {"id":"chatcmpl-broken","choices":[{"index":0,"delta":{"content":\n\n', 'data: [DONE]\n\n'] };
    return { kind: 'raw', status: 200, contentType: 'application/json', text: '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{' };
  },
};
