/** Public types of the provider simulator. */

export type Fault =
  /** answer with this status and an error body in the format of the endpoint (OpenAI error JSON by default) */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  /** accept the request and never answer, until the client goes away */
  | { kind: 'timeout' }
  /** wait before answering */
  | { kind: 'latency'; ms: number }
  /** stream: send the status and headers at once, the first event after `ms` (non-stream: same as latency) */
  | { kind: 'slow-first-chunk'; ms: number }
  /** stream: `chunks` content chunks (default: the normal answer) `ms` apart; non-stream: answer after chunks × ms */
  | { kind: 'chunk-delay'; ms: number; chunks?: number }
  /** send the status, headers and `afterChunks` events, then destroy the socket */
  | { kind: 'cut-stream'; afterChunks: number }
  /** a 200 whose body (or first stream event) is not JSON */
  | { kind: 'malformed-json' };

export type FaultKind = Fault['kind'];

export type FaultRule = {
  match?: {
    /** the request body's `model` */
    model?: string;
    /** [lower-case header name, exact value] */
    header?: [string, string];
  };
  /** the rule applies this many times, then it is used up (default: forever) */
  times?: number;
  fault?: Fault;
  /** the answer has exactly this many output tokens (and content chunks when streamed) */
  outputTokens?: number;
};

export type AbortRecord = {
  path: string;
  model: string | null;
  /** epoch ms the request arrived */
  startedAt: number;
  /** epoch ms the client closed the connection */
  at: number;
};

export type ReceivedRequest = {
  at: number;
  method: string;
  path: string;
  /** the parsed JSON body (null when there was none or it was not JSON) */
  body: unknown;
  headers: Record<string, string>;
};

export type SimulatorStats = {
  /** requests received (every endpoint except /__sim/*) */
  requests: number;
  /** requests per `model` of the body ("(none)" when it had none) */
  requestsByModel: Record<string, number>;
  inFlight: number;
  /** answers written completely */
  completed: number;
  /** requests whose client closed the connection before the answer was complete (the last 1,000), oldest first */
  aborted: AbortRecord[];
  /** how many requests were aborted in all */
  abortedTotal: number;
  /** faults applied, by kind */
  faults: Record<string, number>;
  /** the last requests received, oldest first */
  lastRequests: ReceivedRequest[];
};

export type Simulator = {
  /** `http://127.0.0.1:PORT`; the OpenAI-style base URL is `${url}/v1`; Anthropic (/v1/messages) and Gemini (/v1beta/models/...) use `url` itself */
  url: string;
  port: number;
  close(): Promise<void>;
  /** replaces every rule */
  setFaults(rules: FaultRule[]): void;
  clearFaults(): void;
  stats(): SimulatorStats;
  resetStats(): void;
};

export type SimulatorOptions = { port?: number; host?: string; /** how many request bodies stats keep */ keepRequests?: number };
