import { GatewayError } from '@gw/contracts';

/** A request body as received (bytes, forwarded as they are) and its JSON value (parsed once). */
export class JsonBody {
  constructor(
    readonly raw: Buffer,
    readonly value: unknown,
  ) {}
}

/** Parses the bytes of a JSON body; a bad body is a 400 in the OpenAI shape, never a 500. */
export function parseJsonBody(raw: Buffer): JsonBody {
  if (raw.length === 0) throw new GatewayError('INVALID_REQUEST', 'request body is empty: send a JSON object');
  try {
    return new JsonBody(raw, JSON.parse(raw.toString('utf8')));
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
    throw new GatewayError('INVALID_REQUEST', `request body is not valid JSON${detail}`);
  }
}

/** The JsonBody of a request, or a 400 when the request had none. */
export function requireJsonBody(body: unknown): JsonBody {
  if (body instanceof JsonBody) return body;
  throw new GatewayError('INVALID_REQUEST', 'request body is missing: send a JSON object with content-type application/json');
}
