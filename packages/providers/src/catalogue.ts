import type { ProviderType } from '@gw/contracts';

/**
 * The built-in provider catalogue: provider ids the gateway knows without a config entry, so `groq/llama-3.1-8b-instant`
 * works with only GROQ_API_KEY in the environment. One list, here; the config loader (packages/config) adds an
 * entry to the providers in force when its key variable is set, unless the config already has a provider of that id
 * (a configured provider always wins). ADR 0006.
 *
 * - `keyEnv`: the variable holding the API key. Keyless local servers (Ollama, LM Studio, vLLM) have none: they
 *   join only when their `baseUrlEnv` is set, an explicit opt-in (a client must not make the gateway call ports
 *   of its own host by naming a model).
 * - `baseUrlEnv`: overrides `baseUrl` (a proxy, a region, a test double); required when `baseUrl` is null.
 * - `options`: provider options taken from environment variables (option name → variable).
 */
export type CatalogueEntry = {
  id: string;
  type: ProviderType;
  baseUrl: string | null;
  keyEnv: string | null;
  baseUrlEnv: string;
  options?: Record<string, string>;
};

export const PROVIDER_CATALOGUE = [
  {
    id: 'openai',
    type: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    keyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
  },
  {
    id: 'anthropic',
    type: 'anthropic',
    baseUrl: 'https://api.anthropic.com',
    keyEnv: 'ANTHROPIC_API_KEY',
    baseUrlEnv: 'ANTHROPIC_BASE_URL',
  },
  {
    id: 'gemini',
    type: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com',
    keyEnv: 'GEMINI_API_KEY',
    baseUrlEnv: 'GEMINI_BASE_URL',
  },
  {
    id: 'mistral',
    type: 'mistral',
    baseUrl: 'https://api.mistral.ai/v1',
    keyEnv: 'MISTRAL_API_KEY',
    baseUrlEnv: 'MISTRAL_BASE_URL',
  },
  {
    id: 'deepseek',
    type: 'deepseek',
    baseUrl: 'https://api.deepseek.com',
    keyEnv: 'DEEPSEEK_API_KEY',
    baseUrlEnv: 'DEEPSEEK_BASE_URL',
  },
  {
    id: 'cohere',
    type: 'cohere',
    baseUrl: 'https://api.cohere.com',
    keyEnv: 'COHERE_API_KEY',
    baseUrlEnv: 'COHERE_BASE_URL',
  },
  {
    id: 'azure',
    type: 'azure-openai',
    baseUrl: null,
    keyEnv: 'AZURE_OPENAI_API_KEY',
    baseUrlEnv: 'AZURE_OPENAI_ENDPOINT',
    options: { apiVersion: 'AZURE_OPENAI_API_VERSION' },
  },
  {
    id: 'groq',
    type: 'openai-compatible',
    baseUrl: 'https://api.groq.com/openai/v1',
    keyEnv: 'GROQ_API_KEY',
    baseUrlEnv: 'GROQ_BASE_URL',
  },
  {
    id: 'together',
    type: 'openai-compatible',
    baseUrl: 'https://api.together.xyz/v1',
    keyEnv: 'TOGETHER_API_KEY',
    baseUrlEnv: 'TOGETHER_BASE_URL',
  },
  {
    id: 'fireworks',
    type: 'openai-compatible',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    keyEnv: 'FIREWORKS_API_KEY',
    baseUrlEnv: 'FIREWORKS_BASE_URL',
  },
  {
    id: 'openrouter',
    type: 'openai-compatible',
    baseUrl: 'https://openrouter.ai/api/v1',
    keyEnv: 'OPENROUTER_API_KEY',
    baseUrlEnv: 'OPENROUTER_BASE_URL',
  },
  {
    id: 'perplexity',
    type: 'openai-compatible',
    baseUrl: 'https://api.perplexity.ai',
    keyEnv: 'PERPLEXITY_API_KEY',
    baseUrlEnv: 'PERPLEXITY_BASE_URL',
  },
  {
    id: 'xai',
    type: 'openai-compatible',
    baseUrl: 'https://api.x.ai/v1',
    keyEnv: 'XAI_API_KEY',
    baseUrlEnv: 'XAI_BASE_URL',
  },
  {
    id: 'deepinfra',
    type: 'openai-compatible',
    baseUrl: 'https://api.deepinfra.com/v1/openai',
    keyEnv: 'DEEPINFRA_API_KEY',
    baseUrlEnv: 'DEEPINFRA_BASE_URL',
  },
  {
    id: 'cerebras',
    type: 'openai-compatible',
    baseUrl: 'https://api.cerebras.ai/v1',
    keyEnv: 'CEREBRAS_API_KEY',
    baseUrlEnv: 'CEREBRAS_BASE_URL',
  },
  {
    id: 'ollama',
    type: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:11434/v1',
    keyEnv: null,
    baseUrlEnv: 'OLLAMA_BASE_URL',
  },
  {
    id: 'lmstudio',
    type: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:1234/v1',
    keyEnv: null,
    baseUrlEnv: 'LMSTUDIO_BASE_URL',
  },
  {
    id: 'vllm',
    type: 'openai-compatible',
    baseUrl: 'http://127.0.0.1:8000/v1',
    keyEnv: null,
    baseUrlEnv: 'VLLM_BASE_URL',
  },
] as const satisfies readonly CatalogueEntry[];

export type CatalogueId = (typeof PROVIDER_CATALOGUE)[number]['id'];

/** A provider config (the YAML shape, before validation) made from a catalogue entry and the environment. */
export type CatalogueProvider = {
  id: string;
  type: ProviderType;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  options?: Record<string, string>;
};

const TIMEOUT_MS = 60_000;

/**
 * The catalogue providers the environment enables, except those whose id is in `configured`: an entry with a key
 * variable joins when it is set (and a base URL is known); a keyless entry joins when its base URL variable is set.
 */
export function catalogueProviders(
  env: Readonly<Record<string, string | undefined>>,
  configured: ReadonlySet<string>,
): CatalogueProvider[] {
  const out: CatalogueProvider[] = [];
  for (const entry of PROVIDER_CATALOGUE as readonly CatalogueEntry[]) {
    if (configured.has(entry.id)) continue;
    const key = entry.keyEnv ? env[entry.keyEnv] : undefined;
    const urlOverride = env[entry.baseUrlEnv] || undefined;
    if (entry.keyEnv ? !key : !urlOverride) continue;
    const baseUrl = urlOverride ?? entry.baseUrl;
    if (!baseUrl) continue;
    const p: CatalogueProvider = { id: entry.id, type: entry.type, baseUrl, timeoutMs: TIMEOUT_MS };
    if (key) p.apiKey = key;
    if (entry.options) {
      const options: Record<string, string> = {};
      for (const [name, variable] of Object.entries(entry.options)) {
        const v = env[variable];
        if (v) options[name] = v;
      }
      if (Object.keys(options).length) p.options = options;
    }
    out.push(p);
  }
  return out;
}
