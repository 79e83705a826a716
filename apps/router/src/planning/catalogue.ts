import {
  GatewayError,
  type GatewayConfig,
  type ModelRoutingConfig,
  type Plan,
  type PlanPolicy,
  type PlanTarget,
  type ProviderConfig,
} from '@gw/contracts';
import { familyOf, type TokenFamily } from './tokens.js';

const MAX_REMEMBERED_PLANS = 10_000;

/** A model's target, with what routing needs beside the plan entry. */
export type CompiledTarget = {
  /** `provider-id/model`: the health board's key */
  key: string;
  plan: PlanTarget;
  weight: number;
  region: string | null;
  contextWindow: number | null;
  family: TokenFamily;
  /** the plan entry serialised once: a plan's JSON is put together from these */
  json: string;
};

export type ModelEntry = {
  name: string;
  targets: CompiledTarget[];
  routing: ModelRoutingConfig;
  /** prompt class → the keys of the targets it goes to first */
  classTargets: Map<string, Set<string>>;
  /** some target has a context window: the prompt is counted */
  windows: boolean;
  /** JSON.stringify(name) */
  nameJson: string;
  /** the plan in config order (no policy, no health): direct use, and the catalogue's own tests */
  staticPlan: { plan: Plan; json: string };
};

const DEFAULT_ROUTING: ModelRoutingConfig = { strategy: 'fallback', classes: [] };

/**
 * The model catalogue: model names → compiled targets, built once per config (a reload builds a new one).
 * `plan()` gives the static plan in config order; the Planner orders it per request by policy and health.
 */
export class Catalogue {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly direct = new Map<string, ModelEntry>();
  private readonly providers = new Map<string, ProviderConfig>();
  readonly policy: PlanPolicy;
  /** the policy serialised once, without and with hedging */
  readonly policyJson: { plain: string; hedged: string };

  constructor(readonly config: GatewayConfig) {
    for (const p of config.providers) this.providers.set(p.id, p);
    const r = config.routing;
    this.policy = {
      maxRetries: r.retry.maxRetries,
      baseDelayMs: r.retry.baseDelayMs,
      maxDelayMs: r.retry.maxDelayMs,
      retryAfterCapMs: r.retry.retryAfterCapMs,
      totalTimeoutMs: r.timeouts.totalMs ?? null,
      ttftTimeoutMs: r.timeouts.ttftMs ?? null,
      hedge: false,
    };
    this.policyJson = { plain: JSON.stringify(this.policy), hedged: JSON.stringify({ ...this.policy, hedge: true }) };
    for (const m of config.models) {
      const targets = m.targets.map((t) =>
        this.compile(this.providers.get(t.provider)!, t.model, t.price ?? null, t.weight ?? 1, t.region ?? null, t.contextWindow ?? null),
      );
      const routing = m.routing ?? DEFAULT_ROUTING;
      const classTargets = new Map<string, Set<string>>();
      for (const rule of routing.classes) classTargets.set(rule.class, new Set(rule.targets));
      this.entries.set(m.name, this.entry(m.name, targets, routing, classTargets));
    }
  }

  private entry(name: string, targets: CompiledTarget[], routing: ModelRoutingConfig, classTargets: Map<string, Set<string>>): ModelEntry {
    const plan: Plan = { model: name, targets: targets.map((t) => t.plan), strategy: 'fallback', skipped: [] };
    return {
      name,
      targets,
      routing,
      classTargets,
      windows: targets.some((t) => t.contextWindow !== null),
      nameJson: JSON.stringify(name),
      staticPlan: { plan, json: JSON.stringify(plan) },
    };
  }

  private compile(
    p: ProviderConfig,
    model: string,
    price: PlanTarget['price'],
    weight: number,
    region: string | null,
    contextWindow: number | null,
  ): CompiledTarget {
    const plan: PlanTarget = { providerId: p.id, providerType: p.type, model, baseUrl: p.baseUrl ?? null, timeoutMs: p.timeoutMs, price };
    return {
      key: `${p.id}/${model}`,
      plan,
      json: JSON.stringify(plan),
      weight,
      region,
      contextWindow,
      family: familyOf(model),
    };
  }

  /** The model's entry, or one target for `provider-id/model` addressed directly; MODEL_NOT_FOUND otherwise. */
  lookup(model: string): ModelEntry {
    const hit = this.entries.get(model) ?? this.direct.get(model);
    if (hit) return hit;
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = this.providers.get(model.slice(0, slash));
      const upstreamModel = model.slice(slash + 1);
      if (provider && upstreamModel) {
        const entry = this.entry(model, [this.compile(provider, upstreamModel, null, 1, null, null)], DEFAULT_ROUTING, new Map());
        // direct addresses are client-chosen strings: remember a bounded number, never grow without limit
        if (this.direct.size < MAX_REMEMBERED_PLANS) this.direct.set(model, entry);
        return entry;
      }
    }
    throw new GatewayError('MODEL_NOT_FOUND', `The model \`${model}\` does not exist or is not configured on this gateway.`, {
      param: 'model',
    });
  }

  /** The static plan (config order) of a model name, or of `provider-id/model` addressed directly. */
  plan(model: string): { plan: Plan; json: string } {
    return this.lookup(model).staticPlan;
  }

  list(allowed: string[] | null): Array<{ id: string; ownedBy: string }> {
    const out: Array<{ id: string; ownedBy: string }> = [];
    for (const m of this.config.models) {
      if (allowed && allowed.length && !allowed.includes(m.name)) continue;
      out.push({ id: m.name, ownedBy: m.targets[0]?.provider ?? 'gateway' });
    }
    return out;
  }
}
