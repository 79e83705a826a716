import { GatewayError, type GatewayConfig, type PlanTarget, type ProviderConfig } from '@gw/contracts';
import { adapterFor, hasAdapter, type ProviderAdapter, type ResolvedProvider } from '@gw/providers';

export type ResolvedTarget = { provider: ResolvedProvider; adapter: ProviderAdapter };

/**
 * The providers this executor may call, from the gateway config. Credentials, headers and options stay here: a
 * plan names a provider by id, and the executor resolves it. Resolutions are cached (no per-request allocation).
 */
export class ProviderDirectory {
  private readonly configs = new Map<string, ProviderConfig>();
  private readonly resolved = new Map<string, ResolvedTarget>();

  constructor(config: GatewayConfig) {
    this.load(config);
  }

  /** Takes a new config's providers (a config reload): requests already running keep what they resolved. */
  load(config: GatewayConfig): void {
    this.configs.clear();
    this.resolved.clear();
    for (const p of config.providers) this.configs.set(p.id, p);
  }

  /** Provider ids of the config whose type has no adapter yet (reported at boot). */
  withoutAdapter(): string[] {
    return [...this.configs.values()].filter((p) => !hasAdapter(p.type)).map((p) => `${p.id} (${p.type})`);
  }

  get size(): number {
    return this.configs.size;
  }

  /**
   * The provider and adapter of a plan target. A target this executor cannot call (unknown provider id, no
   * adapter, no base URL) is a retryable failure of that target: the next one of the plan may work.
   */
  resolve(target: PlanTarget): ResolvedTarget {
    const key = `${target.providerId}\u0000${target.baseUrl ?? ''}`;
    const hit = this.resolved.get(key);
    if (hit) return hit;
    const cfg = this.configs.get(target.providerId);
    if (!cfg) throw new GatewayError('PROVIDER_ERROR', `provider ${target.providerId} is not configured on the executor`, { retryable: true });
    let adapter: ProviderAdapter;
    try {
      adapter = adapterFor(cfg.type);
    } catch (err) {
      const e = GatewayError.from(err);
      throw new GatewayError(e.code, e.message, { status: e.status, retryable: true });
    }
    const baseUrl = target.baseUrl ?? cfg.baseUrl ?? adapter.defaultBaseUrl;
    if (!baseUrl) throw new GatewayError('INTERNAL', `provider ${cfg.id} has no baseUrl`, { retryable: true });
    const entry: ResolvedTarget = {
      adapter,
      provider: { id: cfg.id, type: cfg.type, baseUrl, apiKey: cfg.apiKey || undefined, headers: cfg.headers ?? {}, options: {} },
    };
    this.resolved.set(key, entry);
    return entry;
  }
}
