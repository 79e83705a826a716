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
  /** USD per input image (image_url parts of the request's messages); absent = 0 */
  perImage: z.number().nonnegative().optional(),
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
  /** where the target runs (data residency), matched by routing policies, e.g. `eu` */
  region: z.string().min(1).optional(),
  /** the model's context window in tokens: prompt + max_tokens must fit, or the target is left out of the plan */
  contextWindow: z.number().int().positive().optional(),
});
export type TargetConfig = z.infer<typeof TargetConfig>;

export const ROUTE_STRATEGIES = ['fallback', 'weighted', 'latency', 'cost', 'least-busy'] as const;
export const RouteStrategy = z.enum(ROUTE_STRATEGIES);
export type RouteStrategy = z.infer<typeof RouteStrategy>;

/** A target named in a routing rule: `provider-id/model` of one of the model's targets. */
const TargetRef = z.string().regex(/^[^/]+\/.+$/, 'a target is written provider-id/model');

export const ModelRoutingConfig = z.strictObject({
  strategy: RouteStrategy.default('fallback'),
  /** hedged requests (non-stream): a second target starts when the first has not answered within its recent p95 */
  hedge: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** the hedge delay when the target has too few samples for a p95, and its floor */
      minDelayMs: z.number().int().nonnegative().default(50),
      maxDelayMs: z.number().int().positive().default(5_000),
    })
    .optional(),
  /** content rules: a request of this prompt class goes to these targets first (the others stay as fallbacks) */
  classes: z.array(z.strictObject({ class: z.string().min(1), targets: z.array(TargetRef).min(1) })).default([]),
});
export type ModelRoutingConfig = z.infer<typeof ModelRoutingConfig>;

export const ModelConfig = z.strictObject({
  name: z.string().min(1),
  /** the most output tokens the model produces; budgets price a request without max_tokens at this */
  maxOutputTokens: z.number().int().positive().optional(),
  targets: z.array(TargetConfig).min(1),
  routing: ModelRoutingConfig.optional(),
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
/** Request metadata a policy matches on; every given field must match (tags: every listed pair). */
export const PolicyMatch = z.strictObject({
  team: z.string().optional(),
  key: z.string().optional(),
  region: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
});
export type PolicyMatch = z.infer<typeof PolicyMatch>;

/** A routing policy: requests matching `when` may only reach targets allowed by `allow`. */
export const RoutingPolicy = z.strictObject({
  name: z.string().min(1),
  when: PolicyMatch,
  allow: z
    .strictObject({ regions: z.array(z.string()).min(1).optional(), providers: z.array(z.string()).min(1).optional() })
    .refine((a) => a.regions !== undefined || a.providers !== undefined, 'allow needs regions or providers'),
});
export type RoutingPolicy = z.infer<typeof RoutingPolicy>;

/** A prompt class, recognised by keywords (any of them, whole words) or by similarity to labelled examples. */
export const PromptClass = z
  .strictObject({
    name: z.string().min(1),
    keywords: z.array(z.string().min(1)).default([]),
    examples: z.array(z.string().min(1)).default([]),
    /** cosine similarity to the nearest example needed to classify by examples */
    threshold: z.number().min(0).max(1).default(0.35),
  })
  .refine((c) => c.keywords.length > 0 || c.examples.length > 0, 'a class needs keywords or examples');
export type PromptClass = z.infer<typeof PromptClass>;

export const RoutingConfig = z.strictObject({
  retry: z
    .strictObject({
      /** retries of the same target on 429, 5xx or a connection error, before moving on */
      maxRetries: z.number().int().nonnegative().default(1),
      baseDelayMs: z.number().int().nonnegative().default(100),
      maxDelayMs: z.number().int().nonnegative().default(2_000),
      /** a retry-after longer than this moves on to the next target at once */
      retryAfterCapMs: z.number().int().nonnegative().default(2_000),
    })
    .default({ maxRetries: 1, baseDelayMs: 100, maxDelayMs: 2_000, retryAfterCapMs: 2_000 }),
  timeouts: z
    .strictObject({
      /** all attempts of a request together (the request deadline still applies) */
      totalMs: z.number().int().positive().optional(),
      /** streams: the first upstream event must come within this, else the next target */
      ttftMs: z.number().int().positive().optional(),
    })
    .default({}),
  breaker: z
    .strictObject({
      /** opens after this many consecutive failures */
      consecutiveFailures: z.number().int().positive().default(5),
      /** or when the error rate over the window reaches this, with at least minRequests in it */
      errorRate: z.number().gt(0).max(1).default(0.5),
      minRequests: z.number().int().positive().default(20),
      windowMs: z.number().int().positive().default(10_000),
      /** how long it stays open before a half-open probe */
      openMs: z.number().int().positive().default(5_000),
    })
    .default({ consecutiveFailures: 5, errorRate: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5_000 }),
  policies: z.array(RoutingPolicy).default([]),
  classes: z.array(PromptClass).default([]),
});
export type RoutingConfig = z.infer<typeof RoutingConfig>;
export type RoutingConfigInput = z.input<typeof RoutingConfig>;

export const GatewayConfig = z.strictObject({
  providers: z.array(ProviderConfig).default([]),
  models: z.array(ModelConfig).default([]),
  moderation: ModerationConfig.default({ cardNumbers: 'redact' }),
  cache: CacheConfig.default({ enabled: true, ttlSeconds: 3600 }),
  images: ImagesConfig.default({ allowPrivateHosts: false, maxBytes: 10 * 1024 * 1024, timeoutMs: 10_000 }),
  /** parameters without an equivalent on the way (e.g. Anthropic `top_k` on /v1/messages): drop or refuse */
  unsupportedParams: TranslateMode.default('drop'),
  routing: RoutingConfig.default(RoutingConfig.parse({})),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
