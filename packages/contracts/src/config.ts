import { z } from 'zod';

export const PROVIDER_TYPES = [
  'openai',
  'azure-openai',
  'anthropic',
  'gemini',
  'bedrock',
  'mistral',
  'deepseek',
  'cohere',
  'openai-compatible',
  'simulator',
] as const;
export const ProviderType = z.enum(PROVIDER_TYPES);
export type ProviderType = z.infer<typeof ProviderType>;

export const PriceConfig = z.strictObject({
  inputPerMTok: z.number().nonnegative().default(0),
  outputPerMTok: z.number().nonnegative().default(0),
  cachedInputPerMTok: z.number().nonnegative().optional(),
  perRequest: z.number().nonnegative().optional(),
});
export type PriceConfig = z.infer<typeof PriceConfig>;

export const ProviderConfig = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i, 'provider id: letters, digits, . _ -'),
  type: ProviderType,
  apiKey: z.string().optional(),
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().positive().default(30_000),
  /** extra headers sent upstream */
  headers: z.record(z.string(), z.string()).optional(),
  /** provider-specific settings (bedrock: region, accessKeyId, secretAccessKey, sessionToken; azure-openai: apiVersion, entraToken; cohere: embedInputType; ...) */
  options: z.record(z.string(), z.string()).optional(),
  /** a request parameter this provider lacks: dropped (default), or refused with a 400 naming it */
  unsupportedParams: z.enum(['drop', 'reject']).default('drop'),
});
export type ProviderConfig = z.infer<typeof ProviderConfig>;

export const TargetConfig = z.strictObject({
  provider: z.string(),
  model: z.string(),
  price: PriceConfig.optional(),
  weight: z.number().positive().optional(),
});
export type TargetConfig = z.infer<typeof TargetConfig>;

export const ModelConfig = z.strictObject({
  name: z.string().min(1),
  /** the most output tokens the model produces; budgets price a request without max_tokens at this */
  maxOutputTokens: z.number().int().positive().optional(),
  targets: z.array(TargetConfig).min(1),
});
export type ModelConfig = z.infer<typeof ModelConfig>;

export const ModerationConfig = z.strictObject({
  /** What to do with a card number that passes the Luhn check. */
  cardNumbers: z.enum(['off', 'redact', 'block']).default('redact'),
});
export type ModerationConfig = z.infer<typeof ModerationConfig>;

export const CacheConfig = z.strictObject({
  enabled: z.boolean().default(true),
  ttlSeconds: z.number().int().positive().default(3600),
});

/**
 * Image URLs fetched by the executor for providers that take only bytes (bedrock; gemini for http(s) URLs).
 * Private, loopback, link-local and unique-local addresses are refused unless allowPrivateHosts.
 */
export const ImagesConfig = z.strictObject({
  allowPrivateHosts: z.boolean().default(false),
  maxBytes: z.number().int().positive().default(10 * 1024 * 1024),
  timeoutMs: z.number().int().positive().default(10_000),
});
export type ImagesConfig = z.infer<typeof ImagesConfig>;
/** A request parameter the target cannot carry: dropped, or refused with a 400. */
export const TranslateMode = z.enum(['drop', 'reject']);
export type TranslateMode = z.infer<typeof TranslateMode>;

export const GatewayConfig = z.strictObject({
  providers: z.array(ProviderConfig).default([]),
  models: z.array(ModelConfig).default([]),
  moderation: ModerationConfig.default({ cardNumbers: 'redact' }),
  cache: CacheConfig.default({ enabled: true, ttlSeconds: 3600 }),
  images: ImagesConfig.default({ allowPrivateHosts: false, maxBytes: 10 * 1024 * 1024, timeoutMs: 10_000 }),
  /** parameters without an equivalent on the way (e.g. Anthropic `top_k` on /v1/messages): drop or refuse */
  unsupportedParams: TranslateMode.default('drop'),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
