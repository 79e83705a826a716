import { z } from 'zod';

/* Payloads of the control-plane and side-path contracts. */

export const ModerationCheckRequest = z.object({
  requestId: z.string(),
  teamId: z.string().nullable(),
  /** the chat request body as the client sent it (JSON text) */
  body: z.string(),
});
export type ModerationCheckRequest = z.infer<typeof ModerationCheckRequest>;

export const ModerationFinding = z.object({ detector: z.string(), count: z.number().int().nonnegative() });
export const ModerationCheckResult = z.object({
  action: z.enum(['allow', 'redact', 'block']),
  findings: z.array(ModerationFinding),
  /** set when action = redact: the body to send on instead */
  body: z.string().optional(),
  reason: z.string().optional(),
});
export type ModerationCheckResult = z.infer<typeof ModerationCheckResult>;

export const CacheLookupRequest = z.object({ namespace: z.string().min(1), key: z.string().min(1) });
export type CacheLookupRequest = z.infer<typeof CacheLookupRequest>;
export const CacheLookupResult = z.object({ hit: z.boolean(), value: z.string().optional() });
export type CacheLookupResult = z.infer<typeof CacheLookupResult>;
export const CacheStoreEvent = z.object({
  namespace: z.string().min(1),
  key: z.string().min(1),
  value: z.string(),
  ttlSeconds: z.number().int().positive(),
});
export type CacheStoreEvent = z.infer<typeof CacheStoreEvent>;

export const CancelEvent = z.object({ requestId: z.string(), reason: z.string() });
export type CancelEvent = z.infer<typeof CancelEvent>;

export const ModelsListRequest = z.object({ allowedModels: z.array(z.string()).nullable() });
export const ModelsListResult = z.object({
  models: z.array(z.object({ id: z.string(), ownedBy: z.string() })),
});
export type ModelsListResult = z.infer<typeof ModelsListResult>;

export const RollupRequest = z.object({
  /** ISO hour start, e.g. 2026-11-23T07:00:00.000Z */
  hourStart: z.iso.datetime(),
});
export type RollupRequest = z.infer<typeof RollupRequest>;
export const RollupResult = z.object({ rows: z.number().int().nonnegative(), hourStart: z.string() });
export type RollupResult = z.infer<typeof RollupResult>;

export const PingResult = z.object({ service: z.string(), at: z.number() });

/**
 * An admin change to keys or teams: every ingress replica drops those keys (by sha256) from its in-process cache
 * at once; `keyHashes: null` drops every key (a team change touches all its keys).
 */
export const IdentityChangedEvent = z.object({ keyHashes: z.array(z.string()).nullable() });
export type IdentityChangedEvent = z.infer<typeof IdentityChangedEvent>;

/** A provider credential as stored: AES-256-GCM sealed (base64 fields); only holders of GATEWAY_ENCRYPTION_KEY open it. */
export const SealedCredential = z.object({
  providerId: z.string(),
  version: z.number().int().positive(),
  ciphertext: z.string(),
  iv: z.string(),
  authTag: z.string(),
});
export type SealedCredential = z.infer<typeof SealedCredential>;
export const ProviderCredentialsRequest = z.object({});
/** the active (newest live) version of each provider's stored credential */
export const ProviderCredentialsResult = z.object({ credentials: z.array(SealedCredential) });
export type ProviderCredentialsResult = z.infer<typeof ProviderCredentialsResult>;
/** stored credentials changed (a version added or removed): executors fetch them again */
export const CredentialsChangedEvent = z.object({ providerId: z.string() });
export type CredentialsChangedEvent = z.infer<typeof CredentialsChangedEvent>;

/**
 * One upstream attempt's outcome, broadcast by every executor replica to every router replica (no queue group):
 * each replica folds the same events into the same per-target health (latency EWMA, p95, circuit breaker).
 */
export const TargetOutcomeEvent = z.object({
  /** `provider-id/model` */
  target: z.string(),
  requestId: z.string(),
  /** ok: answered; failed: counts against the target's health; neutral: says nothing of it (cancelled, 4xx, hedge lost) */
  result: z.enum(['ok', 'failed', 'neutral']),
  error: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  /** time to the first byte of the answer (streams: the first event) */
  ttftMs: z.number().nonnegative().optional(),
  /** the last attempt of the request: the router's in-flight count of it ends */
  final: z.boolean(),
  at: z.number(),
});
export type TargetOutcomeEvent = z.infer<typeof TargetOutcomeEvent>;

/**
 * The outcomes an executor gathered: successes wait up to a few ms to travel together (one message and one wake-up
 * of each router instead of one per request), a failure goes at once with whatever was waiting.
 */
export const TargetOutcomeBatch = z.object({ outcomes: z.array(TargetOutcomeEvent).min(1).max(10_000) });
export type TargetOutcomeBatch = z.infer<typeof TargetOutcomeBatch>;

/**
 * A new gateway config for every router and executor replica, already validated by the sender (the admin API);
 * each replica validates it again against its own environment and keeps its old config when that fails.
 * `yaml` absent: re-read the config file (GATEWAY_CONFIG).
 */
export const ConfigReloadEvent = z.object({ yaml: z.string().optional(), by: z.string() });
export type ConfigReloadEvent = z.infer<typeof ConfigReloadEvent>;

export const RollupDaysRequest = z.object({
  /** UTC days (2026-11-23) to recompute; absent = every finished day whose rollup is missing or stale */
  days: z.array(z.iso.date()).max(400).optional(),
});
export type RollupDaysRequest = z.infer<typeof RollupDaysRequest>;
export const RollupDaysResult = z.object({ days: z.array(z.object({ day: z.string(), rows: z.number().int().nonnegative() })) });
export type RollupDaysResult = z.infer<typeof RollupDaysResult>;

export const ReconcileRequest = z.object({});
export const ReconcileCheck = z.object({
  check: z.string(),
  /** how many breaks this check found (0 = the invariant holds) */
  breaks: z.number().int().nonnegative(),
  /** a few ids of the offending rows */
  sample: z.array(z.string()),
});
export const ReconcileResult = z.object({ runId: z.string(), ok: z.boolean(), checks: z.array(ReconcileCheck) });
export type ReconcileResult = z.infer<typeof ReconcileResult>;
