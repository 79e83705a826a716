import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  Budgets,
  estimatedInputTokens,
  worstCaseCostNanoUsd,
  worstCaseInputTokens,
  type AdmitDenied,
  type BudgetScope,
  type RateScope,
} from '@gw/budgets';
import { GatewayError } from '@gw/contracts';
import type { FastifyReply } from 'fastify';
import type { Identity, Limits } from '../auth/identity.js';
import type { IngressEnv } from '../config/env.js';
import type { IngressSettings } from '../config/gateway-config.js';
import { GATEWAY_CONFIG, INGRESS_ENV } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BUDGETS } from './budgets.provider.js';
import { AdmissionPool, admissionHeaders } from './admission-pool.js';
import { Pricing } from './pricing.js';

export type AdmitInput = {
  requestId: string;
  identity: Identity;
  model: string;
  bodyBytes: number;
  maxOutputTokens: number | null;
  /** the request's input images: reserved at the targets' perImage */
  inputImages: number;
};

/**
 * What the client is told (x-ratelimit-* headers); `release` = the request holds a concurrency slot to free;
 * `admissionId` = the id its reservation is held under in Redis (its request id, or a prefetched admission's id,
 * ADR 0019): billing settles and the ingress releases by it. null = nothing held.
 */
export type Admission = { headers: Record<string, string>; release: boolean; admissionId: string | null };

const NO_LIMITS: Admission = { headers: {}, release: false, admissionId: null };
/** a prefetched admission holds this many times the amount and tokens of the request that started its pool */
const SLOT_MARGIN = 2;
const LOG_EVERY_MS = 5_000;

/**
 * Rate limits (RPM, TPM, concurrency; per key, team, and key/team × model) and the budget reservation, in one
 * Redis script call (packages/budgets). No limit and no budget on the key or its team → no Redis round trip.
 * A request that is admitted holds its worst-case cost on every budget until billing settles it.
 */
@Injectable()
export class LimitsService implements OnModuleDestroy {
  private readonly logger = new Logger('Limits');
  private readonly pricing: Pricing;
  private lastLog = 0;
  /** admissions taken ahead for requests far from their limits (ADR 0019); null = off */
  readonly pool: AdmissionPool | null;

  constructor(
    @Inject(BUDGETS) private readonly budgets: Budgets,
    @Inject(INGRESS_ENV) private readonly env: IngressEnv,
    @Inject(GATEWAY_CONFIG) settings: IngressSettings,
    private readonly metrics: MetricsService,
  ) {
    this.pricing = new Pricing(settings.models);
    this.pool =
      env.ADMISSION_PREFETCH > 0
        ? new AdmissionPool(
            budgets,
            {
              size: env.ADMISSION_PREFETCH,
              ttlMs: env.ADMISSION_PREFETCH_TTL_MS,
              minHeadroomSlots: env.ADMISSION_PREFETCH_MIN_HEADROOM,
            },
            (err) => this.logOnce(`an admission taken ahead failed (requests admit themselves meanwhile): ${message(err)}`),
          )
        : null;
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.close();
  }

  /** Admits the request or throws 429 (RATE_LIMITED / BUDGET_EXCEEDED); the x-ratelimit-* headers go on the reply either way. */
  async admitTo(reply: FastifyReply, input: AdmitInput): Promise<Admission> {
    try {
      const admission = await this.admit(input);
      for (const k in admission.headers) void reply.header(k, admission.headers[k]);
      return admission;
    } catch (err) {
      if (err instanceof LimitDenied) for (const k in err.headers) void reply.header(k, err.headers[k]);
      throw err;
    }
  }

  async admit(input: AdmitInput): Promise<Admission> {
    const { identity, model } = input;
    const rates = rateScopes(identity, model);
    const budgets: BudgetScope[] = [];
    if (identity.keyBudget) budgets.push({ scope: 'key', id: identity.keyId, ...identity.keyBudget });
    if (identity.teamBudget) budgets.push({ scope: 'team', id: identity.teamId, ...identity.teamBudget });
    if (rates.length === 0 && budgets.length === 0) return NO_LIMITS;

    const priced = this.pricing.of(model);
    const maxOut =
      input.maxOutputTokens ?? priced?.maxOutputTokens ?? this.env.BUDGET_DEFAULT_MAX_OUTPUT_TOKENS;
    const amount =
      budgets.length && priced
        ? worstCaseCostNanoUsd(priced.prices, worstCaseInputTokens(input.bodyBytes), maxOut, input.inputImages)
        : 0n;
    const tokens = estimatedInputTokens(input.bodyBytes) + maxOut;
    const poolKey = this.pool ? poolKeyOf(rates, budgets) : '';
    const slot = this.pool?.take(poolKey, amount, tokens);
    if (slot) {
      this.metrics.admissions.inc({ path: 'ahead' });
      return { headers: slot.headers, release: false, admissionId: slot.id };
    }
    let result;
    try {
      result = await this.budgets.admit({ requestId: input.requestId, nowMs: Date.now(), tokens, amountNanoUsd: amount, rates, budgets });
    } catch (err) {
      return this.unavailable(err, budgets.length > 0);
    }
    const headers = admissionHeaders(result);
    if (!result.ok) throw denial(result, headers);
    this.metrics.admissions.inc({ path: 'own' });
    this.pool?.offer(poolKey, { rates, budgets, tokens: tokens * SLOT_MARGIN, amountNanoUsd: amount * BigInt(SLOT_MARGIN) }, result);
    return { headers, release: rates.some((r) => r.concurrent !== null), admissionId: input.requestId };
  }

  /** The response is over: free the request's concurrency slots (its budget hold waits for billing's settlement). */
  release(admissionId: string): void {
    this.budgets
      .release(admissionId)
      .catch((err: unknown) =>
        this.logOnce(`could not free a concurrency slot (it expires by itself): ${message(err)}`),
      );
  }

  /** Redis unreachable: a budget cannot be guaranteed → 503; rate limits alone fail open (counted, logged). */
  private unavailable(err: unknown, hasBudget: boolean): Admission {
    if (hasBudget) {
      this.logOnce(`budget store unavailable, refusing budgeted requests: ${message(err)}`);
      throw new GatewayError('SERVICE_UNAVAILABLE', 'the budget store is not available');
    }
    this.metrics.failOpen.inc({ dependency: 'ratelimit' });
    this.logOnce(`rate-limit store unavailable, admitting without limits (fail open): ${message(err)}`);
    return NO_LIMITS;
  }

  private logOnce(text: string): void {
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.logger.warn(text);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One pool of prefetched admissions per set of Redis counters and limits a request is admitted against. */
function poolKeyOf(rates: readonly RateScope[], budgets: readonly BudgetScope[]): string {
  let k = '';
  for (const r of rates) k += `${r.name}|${r.rpm}|${r.tpm}|${r.concurrent}\n`;
  for (const b of budgets) k += `${b.scope}|${b.id}|${b.limitNanoUsd}|${b.period}\n`;
  return k;
}

/** key, team, key × model, team × model: every scope that has at least one limit. */
export function rateScopes(identity: Identity, model: string): RateScope[] {
  const out: RateScope[] = [];
  const add = (
    name: string,
    l:
      | {
          rpm?: number | null | undefined;
          tpm?: number | null | undefined;
          maxConcurrent?: number | null | undefined;
        }
      | undefined,
  ) => {
    if (!l) return;
    const rpm = l.rpm ?? null;
    const tpm = l.tpm ?? null;
    const concurrent = l.maxConcurrent ?? null;
    if (rpm !== null || tpm !== null || concurrent !== null) out.push({ name, rpm, tpm, concurrent });
  };
  const both = (kind: 'key' | 'team', id: string, l: Limits) => {
    add(`${kind}:${id}`, l);
    add(`${kind}:${id}:model:${model}`, l.modelLimits[model]);
  };
  both('key', identity.keyId, identity.keyLimits);
  both('team', identity.teamId, identity.teamLimits);
  return out;
}

/** A refusal with the x-ratelimit-* headers the client should see beside the 429. */
export class LimitDenied extends GatewayError {
  constructor(
    code: 'RATE_LIMITED' | 'BUDGET_EXCEEDED',
    message: string,
    readonly headers: Record<string, string>,
    retryAfterSeconds?: number,
  ) {
    super(code, message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
  }
}

function denial(d: AdmitDenied, headers: Record<string, string>): GatewayError {
  const retryAfterSeconds = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
  switch (d.reason) {
    case 'budget':
      return new LimitDenied(
        'BUDGET_EXCEEDED',
        `budget exceeded (${d.scope.replace(':', ' ')}): the worst-case cost of this request does not fit in what is left`,
        headers,
      );
    case 'rpm':
      return new LimitDenied(
        'RATE_LIMITED',
        `rate limit exceeded: requests per minute (${d.scope})`,
        headers,
        retryAfterSeconds,
      );
    case 'tpm':
      return new LimitDenied(
        'RATE_LIMITED',
        `rate limit exceeded: tokens per minute (${d.scope})`,
        headers,
        retryAfterSeconds,
      );
    case 'concurrency':
      return new LimitDenied(
        'RATE_LIMITED',
        `rate limit exceeded: concurrent requests (${d.scope})`,
        headers,
        retryAfterSeconds,
      );
    default:
      return assertUnreachable(d.reason);
  }
}

function assertUnreachable(x: never): never {
  throw new Error(`unexpected ${String(x)}`);
}
