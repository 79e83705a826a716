import { GatewayError, type GatewayConfig, type Plan, type PlanTarget, type ProviderConfig } from '@gw/contracts';

const MAX_REMEMBERED_PLANS = 10_000;

/**
 * The model catalogue: model names → ordered targets, built once per config. Plans are precomputed and kept
 * serialised, so planning a request is a map lookup.
 */
export class Catalogue {
  private readonly plans = new Map<string, { plan: Plan; json: string }>();
  private readonly providers = new Map<string, ProviderConfig>();

  constructor(readonly config: GatewayConfig) {
    for (const p of config.providers) this.providers.set(p.id, p);
    for (const m of config.models) {
      const targets = m.targets.map((t) => this.target(this.providers.get(t.provider)!, t.model, t.price ?? null));
      this.put({ model: m.name, targets });
    }
  }

  private target(p: ProviderConfig, model: string, price: PlanTarget['price']): PlanTarget {
    return { providerId: p.id, providerType: p.type, model, baseUrl: p.baseUrl ?? null, timeoutMs: p.timeoutMs, price };
  }

  private put(plan: Plan): { plan: Plan; json: string } {
    const entry = { plan, json: JSON.stringify(plan) };
    this.plans.set(plan.model, entry);
    return entry;
  }

  /** The plan for a model name, or for `provider-id/model` addressed directly. */
  plan(model: string): { plan: Plan; json: string } {
    const hit = this.plans.get(model);
    if (hit) return hit;
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = this.providers.get(model.slice(0, slash));
      const upstreamModel = model.slice(slash + 1);
      if (provider && upstreamModel) {
        const plan = { model, targets: [this.target(provider, upstreamModel, null)] };
        // direct addresses are client-chosen strings: remember a bounded number, never grow without limit
        return this.plans.size < MAX_REMEMBERED_PLANS ? this.put(plan) : { plan, json: JSON.stringify(plan) };
      }
    }
    throw new GatewayError('MODEL_NOT_FOUND', `The model \`${model}\` does not exist or is not configured on this gateway.`, {
      param: 'model',
    });
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
