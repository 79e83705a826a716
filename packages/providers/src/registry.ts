import { GatewayError, type ProviderType } from '@gw/contracts';
import type { ProviderAdapter } from './types.js';
import { adapter as anthropic } from './anthropic/index.js';
import { adapter as azureOpenai } from './azure-openai/index.js';
import { adapter as cohere } from './cohere/index.js';
import { adapter as deepseek } from './deepseek/index.js';
import { adapter as bedrock } from './bedrock/index.js';
import { adapter as gemini } from './gemini/index.js';
import { adapter as mistral } from './mistral/index.js';
import { adapter as openai } from './openai/index.js';
import { adapter as openaiCompatible } from './openai-compatible/index.js';
import { adapter as simulator } from './simulator/index.js';

/**
 * Provider type → adapter. One line per provider folder; a provider type without a line here has no adapter yet
 * (adapterFor throws; `hasAdapter` lets the executor report them at boot).
 */
const ADAPTERS: Partial<Record<ProviderType, ProviderAdapter>> = {
  openai,
  anthropic,
  gemini,
  'azure-openai': azureOpenai,
  mistral,
  deepseek,
  cohere,
  bedrock,
  'openai-compatible': openaiCompatible,
  simulator,
};

export function adapterFor(type: ProviderType): ProviderAdapter {
  const a = ADAPTERS[type];
  if (!a) throw new GatewayError('INTERNAL', `no adapter for provider type ${type} yet`);
  return a;
}

export function hasAdapter(type: ProviderType): boolean {
  return ADAPTERS[type] !== undefined;
}
