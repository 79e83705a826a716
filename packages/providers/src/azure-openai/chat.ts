import type { ResolvedProvider } from '../types.js';
import { joinUrl, type CompatibleEndpoint, type CompatibleOptions } from '../openai-compatible/chat.js';

/**
 * Azure OpenAI: the OpenAI wire format on deployment URLs.
 * - URL: `{baseUrl}/openai/deployments/{deployment}/{chat/completions|embeddings}?api-version={apiVersion}`; the
 *   deployment is the target's model; baseUrl is the resource endpoint (`https://<resource>.openai.azure.com`);
 *   apiVersion comes from the provider option `apiVersion` (default DEFAULT_API_VERSION, the latest GA version).
 * - Credentials: the `api-key` header; or, when the provider option `entraToken` is set, a Microsoft Entra ID
 *   bearer token (`Authorization: Bearer`) instead.
 * - Everything else is OpenAI's: the body passes through (Azure ignores `model`, the deployment decides).
 *   Azure's content filter answers `finish_reason: content_filter` (passed through as OpenAI has it) and
 *   `prompt_filter_results` / `content_filter_results` fields, which are kept; a prompt the filter refuses is a
 *   400 with code `content_filter` (errors.ts).
 */

export const DEFAULT_API_VERSION = '2024-10-21';

export function azureUrl(provider: ResolvedProvider, path: CompatibleEndpoint, deployment: string): string {
  const version = provider.options['apiVersion'] ?? DEFAULT_API_VERSION;
  return `${joinUrl(provider.baseUrl, `/openai/deployments/${encodeURIComponent(deployment)}${path}`)}?api-version=${encodeURIComponent(version)}`;
}

export function azureAuth(provider: ResolvedProvider): Record<string, string> {
  const token = provider.options['entraToken'];
  if (token) return { authorization: `Bearer ${token}` };
  return provider.apiKey ? { 'api-key': provider.apiKey } : {};
}

export const azureOptions: CompatibleOptions = {
  url: (provider, path, ctx) => azureUrl(provider, path, ctx.model),
  auth: azureAuth,
};
