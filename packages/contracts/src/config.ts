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

export const GatewayConfig = z.strictObject({
  providers: z.array(ProviderConfig).default([]),
  models: z.array(ModelConfig).default([]),
  moderation: ModerationConfig.default({ cardNumbers: 'redact' }),
  cache: CacheConfig.default({ enabled: true, ttlSeconds: 3600 }),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
