import type { ModelConfig, PriceConfig } from '@gw/contracts';

type ModelPrices = { prices: Array<PriceConfig | null>; maxOutputTokens: number | null };

/**
 * What a model can cost, from the config the router plans with: the prices of every target of a model name (the
 * plan may fall back to any of them), and for `provider/model` addressing the targets of that provider and model.
 * Built once at boot; a lookup is a map read.
 */
export class Pricing {
  private readonly byName = new Map<string, ModelPrices>();

  constructor(models: readonly ModelConfig[]) {
    for (const m of models) {
      this.byName.set(m.name, {
        prices: m.targets.map((t) => t.price ?? null),
        maxOutputTokens: m.maxOutputTokens ?? null,
      });
      for (const t of m.targets) {
        const direct = `${t.provider}/${t.model}`;
        const e = this.byName.get(direct) ?? { prices: [], maxOutputTokens: null };
        e.prices.push(t.price ?? null);
        if (m.maxOutputTokens !== undefined)
          e.maxOutputTokens = Math.max(e.maxOutputTokens ?? 0, m.maxOutputTokens);
        if (!this.byName.has(direct)) this.byName.set(direct, e);
      }
    }
  }

  /** null: a model the config does not price (the executor bills it at 0 too). */
  of(model: string): ModelPrices | null {
    return this.byName.get(model) ?? null;
  }
}
