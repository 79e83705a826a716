import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { GatewayConfig, ProviderConfig } from '@gw/contracts';
import { catalogueProviders } from '@gw/providers';

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** `${VAR}` and `${VAR:-default}` in string values; an unset variable without default is an error. */
export function interpolate(value: unknown, env: Env, problems: string[], where = ''): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (dflt !== undefined) return dflt;
      problems.push(`${where || '<root>'}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, problems, `${where}[${i}]`));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, problems, where ? `${where}.${k}` : k);
    return out;
  }
  return value;
}

/** Validates a parsed config; every problem is listed, not just the first. */
export function validateConfig(raw: unknown, env: Env): GatewayConfig {
  const problems: string[] = [];
  const interpolated = interpolate(raw ?? {}, env, problems);
  const parsed = GatewayConfig.safeParse(interpolated);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '<root>'}: ${issue.message}`);
    // the references too, read loosely, so that one answer lists every problem
    problems.push(...looseReferenceProblems(interpolated));
  } else {
    const ids = new Set<string>();
    for (const p of parsed.data.providers) {
      if (ids.has(p.id)) problems.push(`providers: duplicate id ${p.id}`);
      ids.add(p.id);
    }
    const names = new Set<string>();
    parsed.data.models.forEach((m, i) => {
      if (names.has(m.name)) problems.push(`models[${i}].name: duplicate model ${m.name}`);
      names.add(m.name);
      m.targets.forEach((t, j) => {
        if (!ids.has(t.provider)) problems.push(`models[${i}].targets[${j}].provider: unknown provider ${t.provider}`);
      });
      problems.push(...routingProblems(parsed.data, i));
    });
    parsed.data.routing.policies.forEach((p, i) => {
      for (const id of p.allow.providers ?? []) if (!ids.has(id)) problems.push(`routing.policies[${i}].allow.providers: unknown provider ${id}`);
    });
  }
  if (problems.length || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Unknown provider ids in targets and policies, from a config that failed the schema (best effort). */
function looseReferenceProblems(raw: unknown): string[] {
  const out: string[] = [];
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const list = (v: unknown): Array<Record<string, unknown>> =>
    Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
  const ids = new Set(list(o['providers']).map((p) => p['id']));
  list(o['models']).forEach((m, i) =>
    list(m['targets']).forEach((t, j) => {
      if (typeof t['provider'] === 'string' && !ids.has(t['provider'])) out.push(`models[${i}].targets[${j}].provider: unknown provider ${t['provider']}`);
    }),
  );
  const routing = (o['routing'] && typeof o['routing'] === 'object' ? o['routing'] : {}) as Record<string, unknown>;
  list(routing['policies']).forEach((p, i) => {
    const allow = (p['allow'] && typeof p['allow'] === 'object' ? p['allow'] : {}) as Record<string, unknown>;
    const providers = Array.isArray(allow['providers']) ? (allow['providers'] as unknown[]) : [];
    for (const id of providers) if (typeof id === 'string' && !ids.has(id)) out.push(`routing.policies[${i}].allow.providers: unknown provider ${id}`);
  });
  return out;
}

/** A model's routing section may only name prompt classes and targets that exist. */
function routingProblems(config: GatewayConfig, i: number): string[] {
  const m = config.models[i]!;
  const out: string[] = [];
  const classes = new Set(config.routing.classes.map((c) => c.name));
  const targets = new Set(m.targets.map((t) => `${t.provider}/${t.model}`));
  m.routing?.classes.forEach((rule, j) => {
    if (!classes.has(rule.class)) out.push(`models[${i}].routing.classes[${j}].class: unknown prompt class ${rule.class} (define it in routing.classes)`);
    for (const t of rule.targets) if (!targets.has(t)) out.push(`models[${i}].routing.classes[${j}].targets: ${t} is not a target of ${m.name}`);
  });
  const h = m.routing?.hedge;
  if (h && h.minDelayMs > h.maxDelayMs) out.push(`models[${i}].routing.hedge: minDelayMs is above maxDelayMs`);
  return out;
}

export function parseConfigText(text: string, env: Env): GatewayConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError([`YAML: ${(err as Error).message}`]);
  }
  return validateConfig(raw, env);
}

/**
 * The config plus the built-in catalogue providers (packages/providers catalogue.ts) the environment enables: an
 * entry joins when its key variable is set (keyless local servers: their base URL variable), unless the config
 * has a provider of that id already (the configured one wins). `GROQ_API_KEY` alone makes `groq/<model>` work.
 */
export function withCatalogue(config: GatewayConfig, env: Env): GatewayConfig {
  const configured = new Set(config.providers.map((p) => p.id));
  const problems: string[] = [];
  const extra: ProviderConfig[] = [];
  for (const raw of catalogueProviders(env, configured)) {
    const parsed = ProviderConfig.safeParse(raw);
    if (parsed.success) extra.push(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`catalogue provider ${raw.id} (from the environment): ${issue.path.join('.')}: ${issue.message}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return extra.length ? { ...config, providers: [...config.providers, ...extra] } : config;
}

/**
 * The config in force: the file at `path` when given; otherwise a built-in config whose `simulator` provider
 * (the provider simulator of packages/testing, at SIMULATOR_URL) answers; either way plus the catalogue
 * providers whose key is set (withCatalogue).
 */
export function loadGatewayConfig(path: string | undefined, env: Env): GatewayConfig {
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`]);
    }
    return withCatalogue(parseConfigText(text, env), env);
  }
  return withCatalogue(builtinConfig(env), env);
}

export function builtinConfig(env: Env): GatewayConfig {
  const simulatorUrl = env['SIMULATOR_URL'] ?? 'http://127.0.0.1:8099/v1';
  const providers: unknown[] = [{ id: 'simulator', type: 'simulator', baseUrl: simulatorUrl, timeoutMs: 30_000 }];
  const price = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
  return validateConfig(
    {
      providers,
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'simulator', model: 'gpt-4o-mini', price }] },
        { name: 'sim-small', targets: [{ provider: 'simulator', model: 'sim-small', price }] },
      ],
    },
    env,
  );
}
