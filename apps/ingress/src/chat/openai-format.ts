import { ChatCompletionRequest, GatewayError } from '@gw/contracts';
import type { JsonBody } from '../http/json-body.js';
import { openAIError, paramPath } from '../http/openai-error.js';
import { withoutInternalFields } from './internal-fields.js';
import { dataEvent, DONE_EVENT } from './sse.js';
import type { StreamEncoder, WireFormat } from './wire-format.js';

/** Throws the first zod issue as a 400 in the gateway's form: `param: message`, with `param` set. */
export function invalidRequest(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): GatewayError {
  const issue = issues[0];
  const param = issue ? paramPath(issue.path) : null;
  return new GatewayError(
    'INVALID_REQUEST',
    issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'invalid request',
    { param },
  );
}

const openAIStream: StreamEncoder = {
  chunk: (data) => {
    const out = withoutInternalFields(data);
    return typeof out === 'string' ? `data: ${out}\n\n` : dataEvent(out);
  },
  end: () => DONE_EVENT,
  fail: (err) => `data: ${JSON.stringify(openAIError(err).body)}\n\n`,
};

/**
 * POST /v1/chat/completions: the internal format itself. The client's bytes are forwarded as they are, and answers
 * go out as the executor wrote them (no parse, no re-stringify), but for the gateway-internal stop-sequence field of a
 * choice, which is removed (internal-fields.ts: only those bytes are parsed).
 */
export const openAIChatFormat: WireFormat = {
  accept(body: JsonBody) {
    const parsed = ChatCompletionRequest.safeParse(body.value);
    if (!parsed.success) throw invalidRequest(parsed.error.issues);
    return { chat: parsed.data, raw: body.raw, cacheBody: body.value as Record<string, unknown> };
  },
  error: openAIError,
  response: withoutInternalFields,
  stream: () => openAIStream,
};
