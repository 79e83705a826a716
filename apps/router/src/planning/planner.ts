import {
  GatewayError,
  RouteStrategy,
  ROUTE_STRATEGIES,
  type Plan,
  type PlanTarget,
  type RoutingPolicy,
  type SkippedTarget,
} from '@gw/contracts';
import type { HealthBoard } from '../health/health-board.js';
import type { Catalogue, CompiledTarget, ModelEntry } from './catalogue.js';
import { PromptClassifier } from './classifier.js';
import { TokenCounter } from './tokens.js';

/** What the router knows of a request without the body: the model, the key's metadata, the client's routing headers. */
export type PlanRequest = {
  requestId: string;
  model: string;
  stream: boolean;
  teamId: string | null;
  keyId: string | null;
  tags: Readonly<Record<string, string>>;
  /** x-gateway-region: only targets of this region */
  region: string | null;
  /** x-gateway-route-strategy: overrides the model's strategy */
  strategy: string | null;
  /** the raw body; parsed only when a content rule, a context window or the cost strategy needs it */
  body: Uint8Array;
};

export type PlanResult = { plan: Plan; json: string; promptClass: string | null };

/** Output tokens assumed by the cost strategy when the request sets no max_tokens. */
const DEFAULT_OUTPUT_ESTIMATE = 256;
/** The in-flight count of a request ends on its final outcome, or after this (a lost event cannot leak it). */
const IN_FLIGHT_MAX_AGE_MS = 10 * 60_000;
const decoder = new TextDecoder();

type Parsed = { text: string; lastUser: string; messages: number; maxOutput: number };

/**
 * Per-request planning: policy filter (metadata) → context-window filter → strategy order → content class first →
 * circuit breaker. Everything but the optional body parse is a few comparisons over at most a handful of targets.
 */
export class Planner {
  private readonly classifier: PromptClassifier;
  private readonly policies: RoutingPolicy[];

  constructor(
    readonly catalogue: Catalogue,
    private readonly health: HealthBoard,
    private readonly random: () => number = Math.random,
  ) {
    this.classifier = new PromptClassifier(catalogue.config.routing.classes);
    this.policies = catalogue.config.routing.policies;
  }

  plan(req: PlanRequest): PlanResult {
    const entry = this.catalogue.lookup(req.model);
    const strategy = this.strategyOf(req, entry);
    const skipped: SkippedTarget[] = [];
    let candidates = this.allowed(req, entry, skipped);

    const wantsClass = entry.classTargets.size > 0 && !this.classifier.empty;
    let parsed: Parsed | null = null;
    if (wantsClass || entry.windows || strategy === 'cost') parsed = parseBody(req.body);

    if (entry.windows && parsed)
      candidates = this.fitting(entry, candidates, parsed, req.body.byteLength, skipped);
    const ordered = this.order(strategy, candidates, parsed);

    let promptClass: string | null = null;
    if (wantsClass && parsed) {
      const c = this.classifier.classify(parsed.lastUser);
      const keys = c ? entry.classTargets.get(c.name) : undefined;
      if (c && keys) {
        promptClass = c.name;
        // stable partition: the class's targets first, in strategy order; the others stay behind as fallbacks
        const first = ordered.filter((t) => keys.has(t.key));
        const rest = ordered.filter((t) => !keys.has(t.key));
        ordered.length = 0;
        ordered.push(...first, ...rest);
      }
    }

    // circuit breaker: open targets are left out; when every one is open, all stay (a last resort beats no answer)
    let live = ordered.filter((t) => this.health.allow(t.key));
    if (live.length === 0) live = ordered;
    else if (live.length < ordered.length) {
      for (const t of ordered)
        if (!live.includes(t))
          skipped.push({ providerId: t.plan.providerId, model: t.plan.model, reason: 'circuit_open' });
    }

    const hedge = entry.routing.hedge;
    const hedging = !!hedge?.enabled && !req.stream && live.length > 1;
    const targets: PlanTarget[] = [];
    // the JSON is put together from pieces serialised once per config: planning stays a few microseconds
    let targetsJson = '';
    for (const t of live) {
      let pt = t.plan;
      let js = t.json;
      if (hedging && hedge) {
        const p95 = this.health.p95(t.key);
        pt = {
          ...t.plan,
          hedgeAfterMs: Math.min(
            hedge.maxDelayMs,
            Math.max(hedge.minDelayMs, Math.round(p95 ?? hedge.maxDelayMs)),
          ),
        };
        js = JSON.stringify(pt);
      }
      targets.push(pt);
      targetsJson += targetsJson ? `,${js}` : js;
    }
    const policy = hedging ? { ...this.catalogue.policy, hedge: true } : this.catalogue.policy;
    const plan: Plan = { model: entry.name, targets, strategy, policy, skipped };
    const json = `{"model":${entry.nameJson},"targets":[${targetsJson}],"strategy":"${strategy}","policy":${hedging ? this.catalogue.policyJson.hedged : this.catalogue.policyJson.plain},"skipped":${skipped.length ? JSON.stringify(skipped) : '[]'}}`;
    this.health.started(req.requestId, live[0]!.key, IN_FLIGHT_MAX_AGE_MS);
    return { plan, json, promptClass };
  }

  private strategyOf(req: PlanRequest, entry: ModelEntry): RouteStrategy {
    if (req.strategy === null) return entry.routing.strategy;
    const s = RouteStrategy.safeParse(req.strategy.trim().toLowerCase());
    if (!s.success) {
      throw new GatewayError(
        'INVALID_REQUEST',
        `x-gateway-route-strategy: unknown strategy ${req.strategy} (one of ${ROUTE_STRATEGIES.join(', ')})`,
        {
          param: 'x-gateway-route-strategy',
        },
      );
    }
    return s.data;
  }

  /** Policies on request metadata, and the client's region: a target not allowed by every matching one is out. */
  private allowed(req: PlanRequest, entry: ModelEntry, skipped: SkippedTarget[]): CompiledTarget[] {
    const matching = this.policies.filter((p) => matches(p, req));
    if (!matching.length && req.region === null) return entry.targets;
    const out: CompiledTarget[] = [];
    for (const t of entry.targets) {
      let why: string | null = null;
      if (req.region !== null && t.region !== req.region) why = `region: not ${req.region}`;
      for (const p of matching) {
        if (why) break;
        if (p.allow.regions && (t.region === null || !p.allow.regions.includes(t.region)))
          why = `policy ${p.name}: region`;
        else if (p.allow.providers && !p.allow.providers.includes(t.plan.providerId))
          why = `policy ${p.name}: provider`;
      }
      if (why) skipped.push({ providerId: t.plan.providerId, model: t.plan.model, reason: why });
      else out.push(t);
    }
    if (!out.length) {
      const names = matching.map((p) => p.name);
      const by = [
        req.region !== null ? `region ${req.region}` : null,
        names.length ? `policy ${names.join(', ')}` : null,
      ]
        .filter(Boolean)
        .join(' and ');
      throw new GatewayError(
        'FORBIDDEN',
        `no target of model ${entry.name} is allowed for this request (${by})`,
        { param: 'model' },
      );
    }
    return out;
  }

  /** Context windows: only targets where prompt + max output fit. A prompt that fits none is a 400, before any call. */
  private fitting(
    entry: ModelEntry,
    candidates: CompiledTarget[],
    p: Parsed,
    bodyBytes: number,
    skipped: SkippedTarget[],
  ): CompiledTarget[] {
    // a BPE token covers at least one byte: a body smaller than a window fits it without counting
    const counter = new TokenCounter(p.text, p.messages);
    const out: CompiledTarget[] = [];
    let needed = 0;
    for (const t of candidates) {
      if (t.contextWindow === null || bodyBytes + p.maxOutput <= t.contextWindow) {
        out.push(t);
        continue;
      }
      const tokens = counter.count(t.family);
      needed = Math.max(needed, tokens);
      if (tokens + p.maxOutput <= t.contextWindow) out.push(t);
      else
        skipped.push({
          providerId: t.plan.providerId,
          model: t.plan.model,
          reason: `context_window: ${tokens}+${p.maxOutput} > ${t.contextWindow}`,
        });
    }
    if (!out.length) {
      const windows = candidates.map((t) => `${t.key} (${t.contextWindow ?? '∞'})`).join(', ');
      throw new GatewayError(
        'CONTEXT_WINDOW_EXCEEDED',
        `the prompt (about ${needed} tokens, plus ${p.maxOutput} for the answer) fits the context window of no target of ${entry.name}: ${windows}`,
        { status: 400, retryable: false, param: 'messages' },
      );
    }
    return out;
  }

  private order(strategy: RouteStrategy, candidates: CompiledTarget[], p: Parsed | null): CompiledTarget[] {
    const ts = candidates.slice();
    if (ts.length < 2) return ts;
    switch (strategy) {
      case 'fallback':
        return ts;
      case 'weighted':
        return this.weighted(ts);
      case 'latency': {
        // targets without samples first (0): they get measured
        const l = new Map(ts.map((t) => [t, this.health.latency(t.key) ?? 0]));
        return ts.sort((a, b) => l.get(a)! - l.get(b)!);
      }
      case 'cost': {
        const input = p ? Math.ceil(p.text.length / 4) : 0;
        const output = p && p.maxOutput > 0 ? p.maxOutput : DEFAULT_OUTPUT_ESTIMATE;
        const c = new Map(
          ts.map((t) => [
            t,
            t.plan.price
              ? t.plan.price.inputPerMTok * input +
                t.plan.price.outputPerMTok * output +
                (t.plan.price.perRequest ?? 0) * 1e6
              : 0,
          ]),
        );
        return ts.sort((a, b) => c.get(a)! - c.get(b)!);
      }
      case 'least-busy': {
        const b = new Map(ts.map((t) => [t, this.health.busy(t.key)]));
        return ts.sort((x, y) => b.get(x)! - b.get(y)!);
      }
    }
  }

  /** A weighted random order: each position drawn among the remaining targets in proportion to their weights. */
  private weighted(ts: CompiledTarget[]): CompiledTarget[] {
    const out: CompiledTarget[] = [];
    const rest = ts.slice();
    while (rest.length) {
      let total = 0;
      for (const t of rest) total += t.weight;
      let x = this.random() * total;
      let i = 0;
      for (; i < rest.length - 1; i++) {
        x -= rest[i]!.weight;
        if (x < 0) break;
      }
      out.push(rest.splice(i, 1)[0]!);
    }
    return out;
  }
}

function matches(p: RoutingPolicy, req: PlanRequest): boolean {
  const w = p.when;
  if (w.team !== undefined && w.team !== req.teamId) return false;
  if (w.key !== undefined && w.key !== req.keyId) return false;
  if (w.region !== undefined && w.region !== req.region) return false;
  if (w.tags) for (const k in w.tags) if (req.tags[k] !== w.tags[k]) return false;
  return true;
}

/**
 * The prompt's text (every message, tools too: they count against the window), the last user message, and the
 * answer's token limit. Read by hand, not by the zod schema: the ingress validated the body, and the schema parse
 * would cost more than the plan.
 */
function parseBody(body: Uint8Array): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(body));
  } catch {
    throw new GatewayError('INVALID_REQUEST', 'the request body is not JSON');
  }
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const messages = Array.isArray(r['messages']) ? (r['messages'] as unknown[]) : [];
  const parts: string[] = [];
  let lastUser = '';
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const msg = m as Record<string, unknown>;
    const text =
      textOf(msg['content']) + (msg['tool_calls'] !== undefined ? JSON.stringify(msg['tool_calls']) : '');
    parts.push(text);
    if (msg['role'] === 'user') lastUser = text;
  }
  if (r['tools'] !== undefined) parts.push(JSON.stringify(r['tools']));
  const limit = r['max_completion_tokens'] ?? r['max_tokens'];
  return {
    text: parts.join('\n'),
    lastUser,
    messages: messages.length,
    maxOutput: typeof limit === 'number' && limit > 0 ? limit : 0,
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const p of content as unknown[]) {
    const part = p as { type?: unknown; text?: unknown } | null;
    if (part && part.type === 'text' && typeof part.text === 'string')
      out += out ? `\n${part.text}` : part.text;
  }
  return out;
}
