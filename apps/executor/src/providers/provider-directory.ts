import { GatewayError, type GatewayConfig, type PlanTarget, type ProviderConfig } from '@gw/contracts';
import { adapterFor, expandBaseUrl, hasAdapter, type ProviderAdapter, type ResolvedProvider, type TranslateOptions } from '@gw/providers';

/** `translate`: the provider's `unsupportedParams` switch (drop | reject), passed to every request translation */
export type ResolvedTarget = { provider: ResolvedProvider; adapter: ProviderAdapter; translate: TranslateOptions };

/**
 * The providers this executor may call, from the gateway config. Credentials, headers and options stay here: a
 * plan names a provider by id, and the executor resolves it. Resolutions are cached (no per-request allocation).
 */
export class ProviderDirectory {
  private readonly configs = new Map<string, ProviderConfig>();
  private readonly resolved = new Map<string, ResolvedTarget>();
  /** credentials stored through the admin API (CredentialsSync): they win over the config's apiKey */
  private stored = new Map<string, string>();

  /** `env`: the raw environment, for adapters that complete their options from it (AWS credentials and region) */
  constructor(
    config: GatewayConfig,
    private readonly env: Readonly<Record<string, string | undefined>> = {},
  ) {
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

  /** Swaps in the stored credentials; resolutions are rebuilt, requests in flight keep the ones they hold. */
  setStoredKeys(keys: ReadonlyMap<string, string>): void {
    this.stored = new Map(keys);
    this.resolved.clear();
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
    const options = adapter.optionsFromEnv ? adapter.optionsFromEnv(cfg.options ?? {}, this.env) : { ...cfg.options };
    const template = target.baseUrl ?? cfg.baseUrl ?? adapter.defaultBaseUrl;
    if (!template) throw new GatewayError('INTERNAL', `provider ${cfg.id} has no baseUrl`, { retryable: true });
    const baseUrl = expandBaseUrl(template, options, cfg.id);
    const entry: ResolvedTarget = {
      adapter,
      provider: { id: cfg.id, type: cfg.type, baseUrl, apiKey: this.stored.get(cfg.id) ?? (cfg.apiKey || undefined), headers: cfg.headers ?? {}, options },
      translate: { unsupportedParams: cfg.unsupportedParams },
    };
    this.resolved.set(key, entry);
    return entry;
  }
}
