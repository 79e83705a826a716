import type { Redis } from 'ioredis';
import { ADMIT_LUA, ADMIT_STATUS, PENDING_LUA, PUBLISHED_LUA, READ_LUA, RELEASE_LUA, SETTLE_LUA } from './scripts.js';
import { periodSpan, periodTtlMs, type BudgetPeriod } from './periods.js';

/** A scope of rate limits (a key, a team, a key × model …): null = no limit of that kind. */
export type RateScope = { name: string; rpm: number | null; tpm: number | null; concurrent: number | null };
export type BudgetScopeKind = 'key' | 'team';
export type BudgetScope = { scope: BudgetScopeKind; id: string; limitNanoUsd: bigint; period: BudgetPeriod };

export type AdmitRequest = {
  requestId: string;
  nowMs: number;
  /** tokens estimated before the call (prompt + max output), counted against TPM and corrected at settlement */
  tokens: number;
  /** the worst-case cost held on every budget until settlement */
  amountNanoUsd: bigint;
  rates: readonly RateScope[];
  budgets: readonly BudgetScope[];
  /**
   * an admission taken ahead of the request that will use it (a prefetched slot): log it in the RPM windows this
   * many ms after `nowMs`, the latest it may be used, so that it leaves each window no earlier than its request would
   */
  rpmAheadMs?: number;
};

export type AdmitDenied = {
  ok: false;
  reason: 'rpm' | 'tpm' | 'concurrency' | 'budget';
  /** the RateScope name, or `<scope>:<id>` of the budget */
  scope: string;
  retryAfterMs: number;
  limitRequests: number | null;
  remainingRequests: number | null;
  limitTokens: number | null;
  remainingTokens: number | null;
};
export type AdmitResult =
  | {
      ok: true;
      limitRequests: number | null;
      remainingRequests: number | null;
      limitTokens: number | null;
      remainingTokens: number | null;
      /** the least any of the request's budgets has left once this request holds its amount; null = no budget */
      budgetHeadroomNanoUsd: number | null;
    }
  | AdmitDenied;

export type Settlement = { requestId: string; costNanoUsd: bigint; tokens: number };
export type BudgetAlert = {
  budgetKey: string;
  scope: BudgetScopeKind;
  id: string;
  periodId: string;
  thresholdPct: number;
  spentNanoUsd: bigint;
  limitNanoUsd: bigint;
};

export type BudgetsOptions = {
  /** every key starts with `${prefix}:` */
  prefix: string;
  /** how long a hold (budget reservation, concurrency slot) lives when its request never settles */
  holdTtlMs?: number;
  /** how long the settlement record is kept for a late settlement (billing down for a while) */
  recordTtlMs?: number;
};

const REASONS = {
  [ADMIT_STATUS.rpm]: 'rpm',
  [ADMIT_STATUS.tpm]: 'tpm',
  [ADMIT_STATUS.concurrency]: 'concurrency',
  [ADMIT_STATUS.budget]: 'budget',
} as const;

type ScriptName = 'admit' | 'settle' | 'release' | 'read' | 'published' | 'pending';
const SCRIPTS: Record<ScriptName, string> = {
  admit: ADMIT_LUA,
  settle: SETTLE_LUA,
  release: RELEASE_LUA,
  read: READ_LUA,
  published: PUBLISHED_LUA,
  pending: PENDING_LUA,
};
const SCRIPT_COUNT = Object.keys(SCRIPTS).length;

const nullable = (n: number): number | null => (n < 0 ? null : n);

/**
 * Rate limits and budget reservations in Redis, shared by the ingress (admit before the call, release the
 * concurrency slot after it) and billing (settle once the usage is durably stored). One EVALSHA per admission.
 */
export class Budgets {
  private readonly holdTtlMs: number;
  private readonly recordTtlMs: number;
  private readonly shas = new Map<ScriptName, string>();
  /** the expiries of every request's budget holds (ADR 0016) */
  private readonly holdsKey: string;
  /** the budget alerts crossed and not published yet (ADR 0018) */
  private readonly alertsKey: string;
  /** the current period of each kind, so that a request does not format dates (see budgetKey) */
  private readonly periods = new Map<BudgetPeriod, { id: string; startMs: number; endMs: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly opts: BudgetsOptions,
  ) {
    this.holdTtlMs = opts.holdTtlMs ?? 300_000;
    // an expired hold is released through its record (the amount and the budgets): the record must outlive it
    this.recordTtlMs = Math.max(opts.recordTtlMs ?? 7 * 86_400_000, this.holdTtlMs + 86_400_000);
    this.holdsKey = `${opts.prefix}:holds`;
    this.alertsKey = `${opts.prefix}:alerts`;
  }

  async admit(r: AdmitRequest): Promise<AdmitResult> {
    const p = this.opts.prefix;
    const minute = Math.floor(r.nowMs / 60_000);
    const nRate = r.rates.length;
    const nBud = r.budgets.length;
    // [sha, numkeys, KEYS…, ARGV…] in one array sized up front: no spread copies on the hot path
    const numKeys = 2 + nRate * 3 + nBud;
    const argv: Array<string | number> = new Array<string | number>(2 + numKeys + 8 + nRate * 4 + nBud * 2 + 1);
    argv[1] = numKeys;
    let k = 2;
    let a = 2 + numKeys;
    argv[k++] = this.recordKey(r.requestId);
    argv[k++] = this.holdsKey;
    argv[a++] = r.nowMs;
    argv[a++] = r.requestId;
    argv[a++] = this.holdTtlMs;
    argv[a++] = this.recordTtlMs;
    argv[a++] = r.amountNanoUsd.toString();
    argv[a++] = r.tokens;
    argv[a++] = nRate;
    argv[a++] = nBud;
    for (const s of r.rates) {
      const rl = `${p}:rl:${s.name}:`;
      argv[k++] = rl + 'rpm';
      argv[k++] = `${rl}tpm:${minute}`;
      argv[k++] = rl + 'conc';
      argv[a++] = s.rpm ?? 0;
      argv[a++] = s.tpm ?? 0;
      argv[a++] = s.concurrent ?? 0;
      argv[a++] = 120_000;
    }
    for (const b of r.budgets) {
      const { key, ttlMs } = this.budgetKey(b.scope, b.id, b.period, r.nowMs);
      argv[k++] = key;
      argv[a++] = b.limitNanoUsd.toString();
      argv[a++] = ttlMs;
    }
    argv[a] = r.rpmAheadMs ?? 0;
    const out = (await this.run('admit', argv)) as number[];
    const [status = 0, index = -1, retryAfterMs = 0, limReq = -1, remReq = -1, limTok = -1, remTok = -1, headroom = -1] =
      out;
    const limits = {
      limitRequests: nullable(limReq),
      remainingRequests: nullable(remReq),
      limitTokens: nullable(limTok),
      remainingTokens: nullable(remTok),
    };
    if (status === ADMIT_STATUS.ok) return { ok: true, ...limits, budgetHeadroomNanoUsd: nullable(headroom) };
    const reason = REASONS[status as keyof typeof REASONS];
    const budget = r.budgets[index];
    const scope =
      reason === 'budget'
        ? budget
          ? `${budget.scope}:${budget.id}`
          : 'budget'
        : (r.rates[index]?.name ?? 'rate');
    return { ok: false, reason, scope, retryAfterMs: Math.max(0, retryAfterMs), ...limits };
  }

  /** Frees the request's concurrency slots (the response is over). The budget hold stays until settle. */
  async release(requestId: string): Promise<void> {
    await this.run('release', ['', 1, this.recordKey(requestId), requestId]);
  }

  /**
   * Settles requests to their real cost, idempotently (a request already settled, or never admitted with a
   * limit, is a no-op). One pipeline for the whole batch. Returns the budget alerts to publish: every threshold
   * crossed on a budget it settled on and not yet marked published (`alertPublished`), with the spent and limit of
   * the first crossing (the same alert each time it is returned, until it is marked).
   */
  async settle(items: readonly Settlement[]): Promise<BudgetAlert[]> {
    if (items.length === 0) return [];
    await this.ensureLoaded();
    let results = await this.settlePipeline(items);
    // the scripts are gone (Redis restarted empty, SCRIPT FLUSH): load them again and settle again. Settling is
    // idempotent per request id, so the items a first pass did settle (none, if the script was missing) are no-ops.
    if (results.some(([err]) => err instanceof Error && err.message.startsWith('NOSCRIPT'))) {
      this.shas.clear();
      await this.ensureLoaded();
      results = await this.settlePipeline(items);
    }
    const alerts: BudgetAlert[] = [];
    for (const [err, value] of results) {
      if (err) throw err;
      this.alerts(value, alerts);
    }
    return alerts;
  }

  /** JetStream stored the alert: it is done (never returned again in this budget period). */
  async alertPublished(a: Pick<BudgetAlert, 'budgetKey' | 'thresholdPct'>): Promise<void> {
    await this.run('published', ['', 2, a.budgetKey, this.alertsKey, a.thresholdPct]);
  }

  /**
   * The alerts crossed at least `olderThanMs` ago and still not published (at most `max`): those of budgets that no
   * settlement touches any more, e.g. a budget refusing every request since it reached 100 %.
   */
  async pendingAlerts(olderThanMs: number, nowMs = Date.now(), max = 100): Promise<BudgetAlert[]> {
    return this.alerts(await this.run('pending', ['', 1, this.alertsKey, nowMs - olderThanMs, max]), []);
  }

  /** Parses a script's flat alert list {budget key, threshold %, spent, limit, ...} into `into`. */
  private alerts(value: unknown, into: BudgetAlert[]): BudgetAlert[] {
    const flat = value as Array<string | number>;
    for (let i = 0; i + 3 < flat.length; i += 4)
      into.push(this.alert(String(flat[i]), Number(flat[i + 1]), String(flat[i + 2]), String(flat[i + 3])));
    return into;
  }

  private async settlePipeline(items: readonly Settlement[]): Promise<Array<[Error | null, unknown]>> {
    const sha = this.shas.get('settle') ?? '';
    const pipe = this.redis.pipeline();
    const now = Date.now();
    for (const s of items)
      pipe.evalsha(
        sha,
        3,
        this.recordKey(s.requestId),
        this.holdsKey,
        this.alertsKey,
        s.requestId,
        s.costNanoUsd.toString(),
        Math.max(0, Math.round(s.tokens)),
        now,
      );
    return (await pipe.exec()) ?? [];
  }

  /** Spent and reserved (holds of requests not settled yet) of one budget in the period containing `nowMs`. */
  async read(
    scope: BudgetScopeKind,
    id: string,
    period: BudgetPeriod,
    nowMs = Date.now(),
  ): Promise<{ spentNanoUsd: bigint; reservedNanoUsd: bigint }> {
    const { key } = this.budgetKey(scope, id, period, nowMs);
    const [spent = '0', reserved = '0'] = (await this.run('read', [
      '',
      2,
      key,
      this.holdsKey,
      nowMs,
      `${this.opts.prefix}:req:`,
    ])) as string[];
    return { spentNanoUsd: BigInt(spent), reservedNanoUsd: BigInt(reserved) };
  }

  private budgetKey(
    scope: BudgetScopeKind,
    id: string,
    period: BudgetPeriod,
    nowMs: number,
  ): { key: string; ttlMs: number } {
    let span = this.periods.get(period);
    if (!span || nowMs < span.startMs || nowMs >= span.endMs) {
      span = periodSpan(period, nowMs);
      this.periods.set(period, span);
    }
    return { key: `${this.opts.prefix}:bud:${scope}:${id}:${span.id}`, ttlMs: periodTtlMs(span, nowMs) };
  }

  private recordKey(requestId: string): string {
    return `${this.opts.prefix}:req:${requestId}`;
  }

  private alert(budgetKey: string, thresholdPct: number, spent: string, limit: string): BudgetAlert {
    // <prefix>:bud:<scope>:<id>:<period>; the prefix has no ':' and ids are ours (no ':' either)
    const parts = budgetKey.split(':');
    const periodId = parts.at(-1) ?? '';
    const id = parts.at(-2) ?? '';
    const scope = parts.at(-3) === 'team' ? 'team' : 'key';
    return {
      budgetKey,
      scope,
      id,
      periodId,
      thresholdPct,
      spentNanoUsd: BigInt(spent),
      limitNanoUsd: BigInt(limit),
    };
  }

  private async ensureLoaded(): Promise<void> {
    if (this.shas.size === SCRIPT_COUNT) return;
    for (const [name, lua] of Object.entries(SCRIPTS) as Array<[ScriptName, string]>) {
      this.shas.set(name, (await this.redis.script('LOAD', lua)) as string);
    }
  }

  /**
   * EVALSHA, loading the scripts on first use and again after a Redis restart (NOSCRIPT). `argv` is
   * [(the sha goes here), numkeys, KEYS…, ARGV…].
   */
  private async run(name: ScriptName, argv: Array<string | number>): Promise<unknown> {
    if (this.shas.size !== SCRIPT_COUNT) await this.ensureLoaded();
    argv[0] = this.shas.get(name) ?? '';
    try {
      return await this.redis.call('evalsha', argv);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      this.shas.clear();
      await this.ensureLoaded();
      argv[0] = this.shas.get(name) ?? '';
      return this.redis.call('evalsha', argv);
    }
  }
}
