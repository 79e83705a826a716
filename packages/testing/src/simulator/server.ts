import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultStore, parseFault, parseRules } from './faults.js';
import { anthropicFormat } from './anthropic.js';
import { bedrockFormat } from './bedrock.js';
import { azureFormat } from './azure.js';
import { cohereFormat } from './cohere.js';
import { deepseekFormat } from './deepseek.js';
import type { Answer, Generation, Route, RouteRequest, WireFormat } from './format.js';
import { geminiFormat } from './gemini.js';
import { mistralFormat } from './mistral.js';
import { openaiFormat } from './openai.js';
import { StatsCollector } from './stats.js';
import type { Fault, Simulator, SimulatorOptions } from './types.js';

/**
 * The provider simulator: a plain node:http server (no framework, one JSON.parse per body, nothing compiled per
 * request) that answers in a provider's wire format and injects scripted faults. Formats register their routes;
 * faults are applied to any answer by the code below, whatever the format.
 */

const FORMATS: WireFormat[] = [openaiFormat, anthropicFormat, geminiFormat, azureFormat, mistralFormat, deepseekFormat, cohereFormat, bedrockFormat];
const FAULT_HEADER = 'x-sim-fault';
const JSON_TYPE = 'application/json';

type Handle = { route: Route; format: WireFormat };
type Exchange = {
  res: ServerResponse;
  /** set when the simulator destroyed the socket itself (a cut-stream fault): not a client abort */
  cut: boolean;
  timers: Set<NodeJS.Timeout>;
};

type RouteTable = { exact: Map<string, Handle>; prefix: Handle[] };

function routeTable(): RouteTable {
  const exact = new Map<string, Handle>();
  const prefix: Handle[] = [];
  for (const format of FORMATS) {
    for (const route of format.routes) {
      if (route.match === 'prefix') prefix.push({ route, format });
      else exact.set(`${route.method} ${route.path}`, { route, format });
    }
  }
  prefix.sort((a, b) => b.route.path.length - a.route.path.length);
  return { exact, prefix };
}

function findRoute(table: RouteTable, method: string | undefined, path: string): Handle | undefined {
  const hit = table.exact.get(`${method} ${path}`);
  if (hit) return hit;
  return table.prefix.find((h) => h.route.method === method && path.startsWith(h.route.path) && path.length > h.route.path.length);
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Stream events as one body: text joined, or bytes when a format writes binary frames. */
function joinEvents(events: ReadonlyArray<string | Uint8Array>): string | Buffer {
  if (events.every((e) => typeof e === 'string')) return events.join('');
  return Buffer.concat(events.map((e) => (typeof e === 'string' ? Buffer.from(e) : e)));
}

function writeAnswer(res: ServerResponse, a: Answer, extra?: Record<string, string>): void {
  if (res.destroyed) return;
  switch (a.kind) {
    case 'json':
      writeJson(res, a.status, a.body, { ...a.headers, ...extra });
      return;
    case 'raw':
      res.writeHead(a.status, { ...extra, 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.text) });
      res.end(a.text);
      return;
    case 'stream':
      res.writeHead(200, { ...extra, 'content-type': a.contentType, 'cache-control': 'no-cache' });
      res.end(joinEvents(a.events));
      return;
  }
}

function later(ex: Exchange, ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    ex.timers.delete(t);
    if (!ex.res.destroyed) fn();
  }, ms);
  ex.timers.add(t);
}

/** Writes the events of a stream `gapMs` apart, the first after `firstMs`; headers go out at once. */
function pace(ex: Exchange, a: Extract<Answer, { kind: 'stream' }>, firstMs: number, gapMs: number): void {
  ex.res.writeHead(200, { 'content-type': a.contentType, 'cache-control': 'no-cache' });
  ex.res.flushHeaders();
  let i = 0;
  const step = () => {
    ex.res.write(a.events[i++]!);
    if (i >= a.events.length) ex.res.end();
    else later(ex, gapMs, step);
  };
  if (a.events.length === 0) ex.res.end();
  else later(ex, firstMs, step);
}

function cut(ex: Exchange, a: Answer, afterChunks: number): void {
  ex.cut = true;
  const { res } = ex;
  if (a.kind === 'stream') {
    res.writeHead(200, { 'content-type': a.contentType, 'cache-control': 'no-cache' });
    res.write(joinEvents(a.events.slice(0, afterChunks)));
  } else {
    const text = a.kind === 'raw' ? a.text : JSON.stringify(a.body);
    res.writeHead(a.status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
  }
  // let the written bytes leave before the connection dies mid-answer
  setImmediate(() => res.socket?.destroy());
}

function applyFault(ex: Exchange, fault: Fault, answer: Answer, format: WireFormat): void {
  const stream = answer.kind === 'stream';
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      if (fault.body !== undefined) writeJson(ex.res, fault.status, fault.body, headers);
      else writeAnswer(ex.res, format.error(fault.status, null), headers);
      return;
    }
    case 'timeout':
      return; // never answer: the exchange ends when the client goes away
    case 'latency':
      later(ex, fault.ms, () => writeAnswer(ex.res, answer));
      return;
    case 'slow-first-chunk':
      if (answer.kind === 'stream') pace(ex, answer, fault.ms, 0);
      else later(ex, fault.ms, () => writeAnswer(ex.res, answer));
      return;
    case 'chunk-delay':
      if (answer.kind === 'stream') pace(ex, answer, 0, fault.ms);
      else later(ex, fault.ms * (fault.chunks ?? 1), () => writeAnswer(ex.res, answer));
      return;
    case 'cut-stream':
      cut(ex, answer, fault.afterChunks);
      return;
    case 'malformed-json':
      writeAnswer(ex.res, format.malformed(stream));
      return;
  }
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const routes = routeTable();
  const faults = new FaultStore();
  const stats = new StatsCollector(opts.keepRequests ?? 50);
  const timers = new Set<NodeJS.Timeout>();

  const control = (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void => {
    const key = `${req.method} ${path}`;
    if (key === 'GET /__sim/stats') return writeJson(res, 200, stats.snapshot());
    if (key === 'POST /__sim/reset') return (stats.reset(), writeJson(res, 200, { ok: true }));
    if (key === 'DELETE /__sim/faults') return (faults.clear(), writeJson(res, 200, { ok: true }));
    if (key === 'POST /__sim/faults') {
      let raw: unknown;
      try {
        raw = JSON.parse(body.toString('utf8'));
      } catch {
        return writeJson(res, 400, { error: 'the body must be JSON' });
      }
      const rules = parseRules(raw);
      if (typeof rules === 'string') return writeJson(res, 400, { error: rules });
      faults.set(rules);
      return writeJson(res, 200, { ok: true, rules: rules.length });
    }
    writeJson(res, 404, { error: `no control endpoint ${key}` });
  };

  const serve = (req: IncomingMessage, res: ServerResponse, path: string, query: string, body: Buffer): void => {
    const startedAt = Date.now();
    const handle = findRoute(routes, req.method, path);
    const routeReq: RouteRequest = { path, query, headers: req.headers, method: req.method ?? 'GET', rawBody: body };
    let parsed: unknown = null;
    let badJson = false;
    if (body.length > 0) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        badJson = true;
      }
    }
    const model =
      handle?.route.model?.(routeReq) ??
      (parsed && typeof parsed === 'object' && typeof (parsed as { model?: unknown }).model === 'string' ? (parsed as { model: string }).model : null);
    stats.received({ at: startedAt, method: req.method ?? 'GET', path, body: parsed, headers: req.headers as Record<string, string> }, model);
    stats.opened();
    const ex: Exchange = { res, cut: false, timers };
    res.on('close', () => {
      const outcome = res.writableFinished ? 'completed' : ex.cut ? 'cut' : 'aborted';
      stats.closed(outcome, { path, model, startedAt, at: Date.now() });
    });
    const format = handle?.format ?? openaiFormat;
    if (!handle) return writeAnswer(res, openaiFormat.error(404, `Invalid URL (${req.method} ${path})`));
    if (badJson) return writeAnswer(res, format.error(400, 'We could not parse the JSON body of your request.'));

    const rule = faults.empty ? null : faults.take(model, (n) => req.headers[n] as string | undefined);
    let fault: Fault | null = rule?.fault ?? null;
    const injected = req.headers[FAULT_HEADER];
    if (typeof injected === 'string') {
      let f: Fault | string;
      try {
        f = parseFault(JSON.parse(injected));
      } catch {
        f = `${FAULT_HEADER} is not JSON`;
      }
      if (typeof f === 'string') return writeAnswer(res, format.error(400, f));
      fault = f;
    }
    const gen: Generation = { outputTokens: rule?.outputTokens ?? (fault?.kind === 'chunk-delay' ? (fault.chunks ?? null) : null) };
    const answer = handle.route.handle(parsed, gen, routeReq);
    if (!fault) return writeAnswer(res, answer);
    stats.fault(fault.kind);
    applyFault(ex, fault, answer, format);
  };

  const server = createServer((req, res) => {
    const q = req.url?.indexOf('?') ?? -1;
    const path = q >= 0 ? req.url!.slice(0, q) : (req.url ?? '/');
    const query = q >= 0 ? req.url!.slice(q + 1) : '';
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (path.startsWith('/__sim/')) control(req, res, path, body);
      else serve(req, res, path, query, body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 35_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    setFaults: (rules) => faults.set(rules),
    clearFaults: () => faults.clear(),
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
