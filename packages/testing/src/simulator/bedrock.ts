import { checkSigV4, eventFrame } from './bedrock-wire.js';
import { bedrockError, isObject, validateConverse, type ConverseBody } from './bedrock-validate.js';
import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { bedrockResponseFields, stopAt } from './stop-sequences.js';
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

/**
 * The AWS Bedrock Runtime wire format: `POST /model/{modelId}/converse` (JSON), `/converse-stream` (binary
 * `application/vnd.amazon.eventstream` frames: messageStart, contentBlockStart/Delta/Stop, messageStop, metadata)
 * and `/invoke` (embeddings: Titan `inputText`, Cohere `texts`). Every request's SigV4 Authorization is checked
 * (bedrock-wire.ts; verified when signed with BEDROCK_TEST_CREDENTIALS) and the Converse body validated against the
 * documented schema (bedrock-validate.ts); failures answer like AWS: a status, `x-amzn-errortype`, and `{"message": ...}`.
 */

const PREFIX = '/model/';
const EVENT_STREAM = 'application/vnd.amazon.eventstream';
const SERVICE = 'bedrock';

type Reply = {
  text: string[];
  tool: { id: string; name: string; input: string } | null;
  stop: 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence';
  /** the stop sequence that ended the reply (stopReason `stop_sequence`), else null */
  sequence: string | null;
};

function lastUserText(body: ConverseBody): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role !== 'user') continue;
    const t = contentText(m.content);
    if (t) return t;
  }
  return '';
}

function reply(body: ConverseBody, gen: Generation): Reply {
  const hint = lastUserText(body);
  const choice = body.toolConfig?.toolChoice;
  const specs = (body.toolConfig?.tools ?? []).flatMap((t) => (t.toolSpec ? [t.toolSpec] : []));
  const forced = choice?.tool
    ? specs.find((s) => s.name === choice.tool!.name)
    : choice?.any
      ? specs[0]
      : undefined;
  if (forced)
    return {
      text: [],
      tool: {
        id: nextId('tooluse_sim'),
        name: forced.name,
        input: schemaArguments(forced.inputSchema.json, hint),
      },
      stop: 'tool_use',
      sequence: null,
    };
  const stopped = stopAt(
    gen.outputTokens !== null ? fillerPieces(gen.outputTokens) : replyPieces(hint),
    body.inferenceConfig?.stopSequences,
  );
  const cap = capPieces(stopped.pieces, body.inferenceConfig?.maxTokens ?? null);
  if (cap.capped) return { text: cap.pieces, tool: null, stop: 'max_tokens', sequence: null };
  const stop = stopped.matched === null ? 'end_turn' : 'stop_sequence';
  return { text: cap.pieces, tool: null, stop, sequence: stopped.matched };
}

function usage(body: ConverseBody, r: Reply) {
  const system = (body.system ?? []).map((s) => ({ content: s.text ?? '' }));
  const inputTokens = promptTokens([...system, ...body.messages.map((m) => ({ content: m.content }))]);
  const outputTokens = tokensOf(r.tool ? r.tool.name + r.tool.input : r.text.join(''));
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

function converse(model: string, body: ConverseBody, r: Reply, startedAt: number): Answer {
  const content = r.tool
    ? [{ toolUse: { toolUseId: r.tool.id, name: r.tool.name, input: JSON.parse(r.tool.input) as unknown } }]
    : [{ text: r.text.join('') }];
  return {
    kind: 'json',
    status: 200,
    body: {
      output: { message: { role: 'assistant', content } },
      stopReason: r.stop,
      additionalModelResponseFields: fields(model, body, r, false),
      usage: usage(body, r),
      metrics: { latencyMs: Date.now() - startedAt },
    },
    headers: { 'x-amzn-requestid': nextId('sim-') },
  };
}

/** additionalModelResponseFields, when the request asked for a field the model has (stop-sequences.ts) */
function fields(model: string, body: ConverseBody, r: Reply, stream: boolean) {
  return bedrockResponseFields(model, body.additionalModelResponseFieldPaths, r.sequence, stream);
}

function converseStream(model: string, body: ConverseBody, r: Reply): Answer {
  const events: Buffer[] = [eventFrame('messageStart', { role: 'assistant' })];
  if (r.tool) {
    events.push(
      eventFrame('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: r.tool.id, name: r.tool.name } },
      }),
    );
    for (const part of argumentDeltas(r.tool.input))
      events.push(
        eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: part } } }),
      );
  } else {
    for (const piece of r.text)
      events.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }));
  }
  events.push(
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: r.stop, additionalModelResponseFields: fields(model, body, r, true) }),
  );
  events.push(eventFrame('metadata', { usage: usage(body, r), metrics: { latencyMs: 1 } }));
  return { kind: 'stream', contentType: EVENT_STREAM, events };
}

function embeddings(model: string, raw: unknown): Answer {
  if (!isObject(raw))
    return bedrockError(400, 'Malformed input request, please reformat your input and try again.');
  if (/cohere\.embed/.test(model)) {
    const texts = raw['texts'];
    if (
      !Array.isArray(texts) ||
      texts.length === 0 ||
      texts.length > 96 ||
      texts.some((t) => typeof t !== 'string')
    )
      return bedrockError(
        400,
        'Malformed input request: #/texts: expected type: JSONArray of 1 to 96 strings',
      );
    if (typeof raw['input_type'] !== 'string')
      return bedrockError(
        400,
        'Malformed input request: #: required key [input_type] not found, please reformat your input and try again.',
      );
    return {
      kind: 'json',
      status: 200,
      body: {
        embeddings: (texts as string[]).map((t) => embed(t, 1024)),
        id: nextId('sim-'),
        response_type: 'embeddings_floats',
        texts,
      },
    };
  }
  if (/titan-embed/.test(model)) {
    const text = raw['inputText'];
    if (typeof text !== 'string' || text.length === 0)
      return bedrockError(
        400,
        'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.',
      );
    const dims = raw['dimensions'] ?? 1024;
    if (dims !== 256 && dims !== 512 && dims !== 1024)
      return bedrockError(
        400,
        'Malformed input request: #/dimensions: 3 is not a valid enum value, please reformat your input and try again.',
      );
    const v = embed(text, dims);
    return {
      kind: 'json',
      status: 200,
      body: { embedding: v, embeddingsByType: { float: v }, inputTextTokenCount: tokensOf(text) },
    };
  }
  return bedrockError(
    400,
    `The provided model doesn't support the invoke operation for embeddings: ${model}`,
  );
}

/** `/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse` → model id and action. */
function target(path: string): { model: string; action: string } | null {
  const rest = path.slice(PREFIX.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) return null;
  try {
    return { model: decodeURIComponent(rest.slice(0, slash)), action: rest.slice(slash + 1) };
  } catch {
    return null;
  }
}

function handle(raw: unknown, gen: Generation, req: RouteRequest): Answer {
  const startedAt = Date.now();
  const t = target(req.path);
  if (!t || !['converse', 'converse-stream', 'invoke'].includes(t.action))
    return bedrockError(404, `Unknown operation: ${req.path}`, 'UnknownOperationException');
  const auth = checkSigV4(
    {
      method: req.method ?? 'POST',
      path: req.path,
      query: req.query,
      headers: req.headers,
      body: req.rawBody ?? Buffer.alloc(0),
    },
    SERVICE,
  );
  if (auth) return bedrockError(auth.status, auth.message, auth.type);
  if (t.action === 'invoke') return embeddings(t.model, raw);
  const checked = validateConverse(raw);
  if ('error' in checked) return checked.error;
  const r = reply(checked.body, gen);
  return t.action === 'converse'
    ? converse(t.model, checked.body, r, startedAt)
    : converseStream(t.model, checked.body, r);
}

const routes: Route[] = [
  { method: 'POST', path: PREFIX, match: 'prefix', handle, model: (req) => target(req.path)?.model ?? null },
];

export const bedrockFormat: WireFormat = {
  routes,
  error: (status, message) => bedrockError(status, message),
  malformed(stream) {
    if (stream)
      return {
        kind: 'stream',
        contentType: EVENT_STREAM,
        events: [
          eventFrame('messageStart', { role: 'assistant' }).subarray(0, 20),
          Buffer.from('not an event stream'),
        ],
      };
    return { kind: 'raw', status: 200, contentType: 'application/json', text: '{"output": {"message": ' };
  },
};
