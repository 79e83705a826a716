/**
 * What a wire format (OpenAI today; Anthropic, Gemini, Bedrock, Cohere beside it later) gives the simulator's
 * generic server: its routes, and its error bodies. A route turns a parsed request into an `Answer`; the server
 * applies faults (latency, pacing, cuts) to any answer the same way, whatever the format.
 */

export type Answer =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  /** a body written as is (e.g. a broken JSON text) */
  | { kind: 'raw'; status: number; contentType: string; text: string }
  /** `events` are complete wire events (e.g. `data: {...}\n\n`, or binary event-stream frames), written in order */
  | { kind: 'stream'; contentType: string; events: Array<string | Uint8Array> };

export type Generation = {
  /** exact number of output tokens (and content chunks) asked by a fault rule, or null for the default answer */
  outputTokens: number | null;
};

/** What a route may read of the HTTP request besides its parsed body. */
export type RouteRequest = {
  path: string;
  /** the query string without its `?` ('' when none) */
  query: string;
  /** lower-case header names */
  headers: Record<string, string | string[] | undefined>;
  /** the method and the body's bytes as received (for formats that check a signature over them) */
  method?: string;
  rawBody?: Buffer;
};

export type Route = {
  method: 'GET' | 'POST';
  path: string;
  /** 'exact' (default), or 'prefix': the route serves every path that starts with `path` (a model in the path) */
  match?: 'exact' | 'prefix';
  handle(body: unknown, gen: Generation, req: RouteRequest): Answer;
  /** the model a request is for, when it is not the body's `model` (fault rules and stats match on it) */
  model?(req: RouteRequest): string | null;
};

export type WireFormat = {
  routes: Route[];
  /** the error body this format answers with (any status), for a status fault, an unparseable request or a bad fault header */
  error(status: number, message: string | null): Answer;
  /** a 200 that the client cannot parse */
  malformed(stream: boolean): Answer;
};
