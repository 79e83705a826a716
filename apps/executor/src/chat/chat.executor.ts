import { Logger } from '@nestjs/common';
import {
  ChatCompletionRequest,
  costNanoUsd,
  GatewayError,
  HEADERS,
  Plan,
  RequestMeta,
  type ChatCompletionChunk,
  type PlanPolicy,
  type PlanTarget,
  type ResultMeta,
  type Usage,
  type UsageEvent,
  type UsageEventInput,
} from '@gw/contracts';
import type { ChatContext } from '@gw/providers';
import type { FrameWriter, StreamRequest } from '@gw/transport';
import type { ImageFetcher } from '../images/image-fetcher.js';
import type { ProviderDirectory, ResolvedTarget } from '../providers/provider-directory.js';
import type { UpstreamClient, UpstreamResponse } from '../upstream/upstream.client.js';
import type { UsageRecorder } from '../usage/usage.recorder.js';
import { chunkChars, completionChars, estimateTokens, promptChars } from './usage-estimate.js';
import { backoffMs, isTransient, NO_POLICY, pause } from './retry.js';
import { RoutingStory, type OutcomeSink } from './routing-story.js';
import { claimAnswer, hedgedPair, HedgeLost, hedges, type HedgeBook, type StepResult } from './hedge.js';
import { parseBody, parseHeader } from './request-parsing.js';
import { mapAbort, readText, type AbortWhy } from '../upstream/upstream-errors.js';

type Attempt = ResultMeta['attempts'][number];

/** Everything one request carries through its attempts (and what it keeps of its hedged pairs). */
type Run = HedgeBook & {
  meta: RequestMeta;
  /** null until the body parsed */
  body: ChatCompletionRequest | null;
  out: FrameWriter;
  cancel: AbortController;
  attempts: Attempt[];
  /** a chunk went to the client: no failover any more */
  started: boolean;
  /** the target whose 200 is being (or was) used: tokens and cost are billed against it */
  billed: PlanTarget | null;
  upstreamModel: string | null;
  usage: Usage | null;
  outputChars: number;
  /** the upstream's usage-only chunk, held back to be the last chunk frame */
  usageChunk: ChatCompletionChunk | null;
  lastChunk: ChatCompletionChunk | null;
  /** the body with its image URLs fetched as data URLs, once, for the targets whose adapter needs bytes */
  withImageBytes: Promise<ChatCompletionRequest> | null;
  policy: PlanPolicy;
  /** the request deadline, or the total timeout of the plan's policy when sooner */
  deadlineAt: number;
  story: RoutingStory | null;
};

const PLAN_CACHE_MAX = 1_024;

/**
 * executor.rpc.chat.v1: calls the plan's targets in order until one answers. Non-stream: one `response` frame.
 * Stream: `start`, one `chunk` per upstream chunk as it arrives, `end`. A retryable failure (429, 5xx, timeout,
 * connection error, context overflow) moves to the next target, but never once a chunk reached the client.
 * Exactly one usage event per request taken, published after the last frame.
 */
export class ChatExecutor {
  private readonly logger = new Logger('Chat');
  private readonly running = new Map<string, AbortController>();
  private readonly plans = new Map<string, Plan | null>();

  constructor(
    private readonly providers: ProviderDirectory,
    private readonly upstream: UpstreamClient,
    private readonly usage: UsageRecorder,
    private readonly images: ImageFetcher,
    private readonly outcomes: OutcomeSink | null = null,
    private readonly random: () => number = Math.random,
  ) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** executor.evt.cancel.v1 (broadcast): aborts the request if this replica runs it. */
  cancel(requestId: string, reason: string): boolean {
    const c = this.running.get(requestId);
    if (!c) return false;
    this.logger.debug(`cancel ${requestId}: ${reason}`);
    c.abort();
    return true;
  }

  /**
   * The router sends one precomputed plan JSON per model: it is validated once and the parsed plan reused
   * (read-only), so a request costs a map lookup instead of a JSON parse and a zod walk. Bounded: cleared when full.
   */
  private plan(raw: string | undefined): Plan | null {
    if (!raw) return null;
    let plan = this.plans.get(raw);
    if (plan === undefined) {
      plan = parseHeader(raw, Plan);
      if (this.plans.size >= PLAN_CACHE_MAX) this.plans.clear();
      this.plans.set(raw, plan);
    }
    return plan;
  }

  async handle(req: StreamRequest, out: FrameWriter): Promise<void> {
    const h = req.headers;
    const meta = parseHeader(h?.get(HEADERS.meta), RequestMeta);
    if (!meta) {
      // without meta there is no request to account for: the ingress records the failure
      out.error(new GatewayError('INVALID_REQUEST', 'executor: missing or malformed gw-meta header'));
      return;
    }
    const cancel = new AbortController();
    const run: Run = {
      meta,
      body: null,
      out,
      cancel,
      attempts: [],
      started: false,
      billed: null,
      upstreamModel: null,
      usage: null,
      outputChars: 0,
      usageChunk: null,
      lastChunk: null,
      withImageBytes: null,
      policy: NO_POLICY,
      deadlineAt: meta.deadlineAt,
      story: null,
      winner: null,
      hedgeUsage: [],
    };
    let lastTarget: PlanTarget | null = null;
    let failure: GatewayError | null = null;
    this.running.set(meta.requestId, cancel);
    try {
      const plan = this.plan(h?.get(HEADERS.plan));
      if (!plan) throw new GatewayError('INTERNAL', 'executor: missing or malformed gw-plan header');
      run.story = new RoutingStory(plan, meta.requestId, this.outcomes);
      run.policy = plan.policy ?? NO_POLICY;
      if (run.policy.totalTimeoutMs !== null) run.deadlineAt = Math.min(meta.deadlineAt, Date.now() + run.policy.totalTimeoutMs);
      const body = parseBody(req.data, ChatCompletionRequest);
      run.body = body;
      const walked = await this.walk(run, body, plan.targets);
      lastTarget = walked.last;
      failure = walked.failure;
      if (failure) throw failure;
    } catch (err) {
      failure = GatewayError.from(err);
      if (!(err instanceof GatewayError)) this.logger.error(`${meta.requestId}: ${(err as Error).stack ?? String(err)}`);
      // the story travels with the error too: the client sees why every target failed (x-gateway-route)
      const headers: Record<string, string> = { [HEADERS.usageRecorded]: '1' };
      if (run.story) headers[HEADERS.route] = run.story.header();
      out.error(failure, headers);
    } finally {
      this.running.delete(meta.requestId);
      const event = this.usageEvent(run, failure, lastTarget);
      run.story?.finish();
      if ((event.attempts ?? 0) > 1 || failure) {
        this.logger.log(`${meta.requestId} ${meta.model}: ${failure ? `failed ${failure.code}` : 'ok'}, route ${run.story?.header() ?? '-'}`);
      }
      this.usage.record(event);
    }
  }

  /**
   * Walks the plan: each target once, in order (hedged pairs side by side), moving on after a retryable failure.
   * When every target failed transiently (429, 5xx, timeout, connection), another round over those targets follows
   * after an exponential backoff with jitter that honours retry-after, up to policy.maxRetries rounds. Never once
   * a chunk reached the client.
   */
  private async walk(run: Run, body: ChatCompletionRequest, plan: PlanTarget[]): Promise<{ failure: GatewayError | null; last: PlanTarget | null }> {
    let targets = plan;
    let failure: GatewayError | null = null;
    let last: PlanTarget | null = null;
    for (let round = 0; ; round++) {
      const transient: PlanTarget[] = [];
      let retryAfter: number | undefined;
      let allSaidWhen = true;
      for (let i = 0; i < targets.length; i++) {
        if (run.cancel.signal.aborted) throw new GatewayError('CANCELLED', 'the client went away');
        if (run.deadlineAt <= Date.now()) throw new GatewayError('DEADLINE_EXCEEDED', 'the request deadline passed', { status: 504 });
        const target = targets[i]!;
        const next = targets[i + 1];
        last = target;
        let step: StepResult;
        if (hedges(run.policy, run.meta.stream, target, next)) {
          step = await hedgedPair(target, next, (t, hedge) => this.tryTarget(run, body, t, hedge));
          // the pair ran side by side: the second target is spent unless the first failed before the hedge began
          if (step === 'ok' || step.length > 1) i++;
          if (step !== 'ok' && step.length > 1) last = next;
        } else {
          const e = await this.tryTarget(run, body, target, null);
          step = e === null || e instanceof HedgeLost ? 'ok' : [{ target, error: e }];
        }
        if (step === 'ok') return { failure: null, last };
        for (const f of step) {
          failure = f.error;
          if (run.started || !f.error.retryable || run.cancel.signal.aborted) return { failure, last };
          if (isTransient(f.error)) {
            transient.push(f.target);
            if (f.error.retryAfterSeconds === undefined) allSaidWhen = false;
            else retryAfter = Math.min(retryAfter ?? Infinity, f.error.retryAfterSeconds);
          }
        }
      }
      if (round >= run.policy.maxRetries || transient.length === 0 || transient.length < targets.length) return { failure, last };
      const wait = backoffMs(run.policy, round + 1, allSaidWhen ? retryAfter : undefined, this.random);
      if (wait === null || Date.now() + wait >= run.deadlineAt) return { failure, last };
      await pause(wait, run.cancel.signal);
      targets = transient;
    }
  }

  /** One attempt on one target: null when it answered, else its failure (a lost hedge is a HedgeLost). */
  private async tryTarget(run: Run, body: ChatCompletionRequest, target: PlanTarget, hedge: AbortSignal | null): Promise<GatewayError | null> {
    const t0 = Date.now();
    run.story?.begin(target);
    try {
      await this.attempt(run, body, target, t0, hedge);
      return null;
    } catch (err) {
      const e = GatewayError.from(err);
      const latencyMs = Date.now() - t0;
      if (e instanceof HedgeLost) {
        run.story?.hedgeLost(target, latencyMs);
        return e;
      }
      if (!(err instanceof GatewayError)) this.logger.error(`${run.meta.requestId}: ${(err as Error).stack ?? String(err)}`);
      run.attempts.push({ providerId: target.providerId, model: target.model, ok: false, error: e.code, latencyMs });
      if (e.code === 'CANCELLED') run.story?.cancelled(target, latencyMs);
      else run.story?.failed(target, e, latencyMs);
      return e;
    }
  }

  private async attempt(run: Run, body: ChatCompletionRequest, target: PlanTarget, t0: number, hedge: AbortSignal | null): Promise<void> {
    const { meta } = run;
    const resolved = this.providers.resolve(target);
    const ctx: ChatContext = { model: target.model, requestId: meta.requestId, created: Math.floor(t0 / 1000) };
    const prepared = resolved.adapter.needsImageBytes ? await (run.withImageBytes ??= this.images.inline(body, run.cancel.signal)) : body;
    const upstreamReq = resolved.adapter.chat.buildRequest(prepared, meta.stream, resolved.provider, ctx, resolved.translate);

    // one controller per attempt: the per-attempt timeout, the request deadline, and the client's cancel
    const ac = new AbortController();
    let why: AbortWhy | null = null;
    const abort = (w: AbortWhy) => {
      if (why) return;
      why = w;
      ac.abort();
    };
    const onCancel = () => abort('cancel');
    const onHedge = () => abort('hedge');
    run.cancel.signal.addEventListener('abort', onCancel, { once: true });
    hedge?.addEventListener('abort', onHedge, { once: true });
    const deadlineTimer = setTimeout(() => abort('deadline'), Math.max(0, run.deadlineAt - Date.now()));
    let idleTimer = setTimeout(() => abort('timeout'), target.timeoutMs);
    // streams: the first upstream event must come within the time-to-first-token timeout
    const ttftMs = meta.stream ? run.policy.ttftTimeoutMs : null;
    let ttftTimer = ttftMs !== null ? setTimeout(() => abort('ttft'), ttftMs) : undefined;
    const rearm = () => {
      if (ttftTimer !== undefined) {
        clearTimeout(ttftTimer);
        ttftTimer = undefined;
      }
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => abort('timeout'), target.timeoutMs);
    };
    try {
      const res = await this.upstream.request(upstreamReq, ac.signal);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await readText(res);
        throw resolved.adapter.chat.parseError(res.statusCode, text, res.headers);
      }
      if (meta.stream) await this.relay(run, target, resolved, ctx, res, t0, rearm);
      else await this.complete(run, target, resolved, ctx, res, t0);
    } catch (err) {
      throw mapAbort(err, why, target, run.started, ttftMs);
    } finally {
      clearTimeout(idleTimer);
      clearTimeout(deadlineTimer);
      clearTimeout(ttftTimer);
      run.cancel.signal.removeEventListener('abort', onCancel);
      hedge?.removeEventListener('abort', onHedge);
    }
  }

  private async complete(run: Run, target: PlanTarget, resolved: ResolvedTarget, ctx: ChatContext, res: UpstreamResponse, t0: number): Promise<void> {
    const ttftMs = Date.now() - t0;
    let json: unknown;
    try {
      json = await res.body.json();
    } catch (err) {
      if (run.winner === null) run.billed = target;
      if (err instanceof SyntaxError) throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent malformed JSON');
      throw err;
    }
    const completion = resolved.adapter.chat.parseResponse(json, ctx);
    // a hedged pair where the other answered first: keep what this provider reported, and lose
    claimAnswer(run, target, completion.usage);
    run.billed = target;
    run.upstreamModel = completion.model;
    run.usage = completion.usage ?? null;
    run.outputChars = completionChars(completion);
    run.attempts.push({ providerId: target.providerId, model: target.model, ok: true, latencyMs: Date.now() - t0 });
    run.story?.ok(target, Date.now() - t0, ttftMs);
    run.out.response(JSON.stringify(completion), { [HEADERS.result]: JSON.stringify(resultMeta(run, target)) });
  }

  private async relay(
    run: Run,
    target: PlanTarget,
    resolved: ResolvedTarget,
    ctx: ChatContext,
    res: UpstreamResponse,
    t0: number,
    rearm: () => void,
  ): Promise<void> {
    run.billed = target;
    const dec = resolved.adapter.chat.createStreamDecoder();
    const tr = resolved.adapter.chat.createStreamTranslator(ctx);
    let okRecorded = false;
    const emit = (chunks: ChatCompletionChunk[]) => {
      for (const c of chunks) {
        if (!okRecorded) {
          okRecorded = true;
          run.attempts.push({ providerId: target.providerId, model: target.model, ok: true, latencyMs: Date.now() - t0 });
          run.story?.ok(target, Date.now() - t0, Date.now() - t0);
        }
        this.forward(run, target, c);
      }
    };
    try {
      for await (const piece of res.body) {
        rearm();
        for (const ev of dec.push(piece as Uint8Array)) emit(tr.push(ev));
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      // the connection broke mid-body (mapAbort turns our own aborts into their codes)
      throw new GatewayError('PROVIDER_ERROR', 'upstream stream ended early');
    } finally {
      const u = tr.usage();
      if (u) run.usage = u;
    }
    for (const ev of dec.end()) emit(tr.push(ev));
    emit(tr.finish());
    const u = tr.usage();
    if (u) run.usage = u;
    if (!tr.done()) throw new GatewayError('PROVIDER_ERROR', 'upstream stream ended early');
    if (!run.started) {
      // a complete stream without a content chunk: still a valid (empty) answer
      if (!okRecorded) {
        run.attempts.push({ providerId: target.providerId, model: target.model, ok: true, latencyMs: Date.now() - t0 });
        run.story?.ok(target, Date.now() - t0, Date.now() - t0);
      }
      this.startFrame(run, target);
    }
    if (run.meta.includeUsage) run.out.chunk(JSON.stringify(this.usageChunk(run, ctx)));
    run.out.end();
  }

  private startFrame(run: Run, target: PlanTarget): void {
    run.started = true;
    run.out.start({ [HEADERS.result]: JSON.stringify(resultMeta(run, target)) });
  }

  /** One upstream chunk to the client, at once; usage is held back for the last chunk frame. */
  private forward(run: Run, target: PlanTarget, chunk: ChatCompletionChunk): void {
    if (chunk.usage) run.usage = chunk.usage;
    run.lastChunk = chunk;
    if (typeof chunk.model === 'string') run.upstreamModel = chunk.model;
    if (chunk.choices.length === 0 && chunk.usage) {
      run.usageChunk = chunk;
      return;
    }
    if (chunk.usage !== undefined && (chunk.usage !== null || !run.meta.includeUsage)) delete chunk.usage;
    run.outputChars += chunkChars(chunk);
    if (!run.started) this.startFrame(run, target);
    run.out.chunk(JSON.stringify(chunk));
  }

  private usageChunk(run: Run, ctx: ChatContext): ChatCompletionChunk {
    const usage = run.usage ?? estimatedUsage(run);
    if (run.usageChunk) return { ...run.usageChunk, usage };
    const last = run.lastChunk;
    return {
      id: last?.id ?? `chatcmpl-${ctx.requestId}`,
      object: 'chat.completion.chunk',
      created: last?.created ?? ctx.created,
      model: run.upstreamModel ?? ctx.model,
      choices: [],
      usage,
    };
  }

  private usageEvent(run: Run, failure: GatewayError | null, lastTarget: PlanTarget | null): UsageEventInput {
    const { meta } = run;
    const status: UsageEvent['status'] = failure === null ? 'ok' : failure.code === 'CANCELLED' ? 'cancelled' : 'error';
    let inputTokens = 0;
    let outputTokens = 0;
    let cachedInputTokens = 0;
    let estimated = false;
    if (run.usage) {
      inputTokens = run.usage.prompt_tokens;
      outputTokens = run.usage.completion_tokens;
      cachedInputTokens = run.usage.prompt_tokens_details?.cached_tokens ?? 0;
    } else if (run.billed && run.body) {
      // the upstream took the request but reported nothing (cut, cancelled, or a provider without usage)
      const est = estimatedUsage(run);
      inputTokens = est.prompt_tokens;
      outputTokens = est.completion_tokens;
      estimated = true;
    }
    // every target that took the request read its images (meta.inputImages: counted once by the ingress)
    let cost = run.billed ? costNanoUsd(run.billed.price, { inputTokens, outputTokens, cachedInputTokens, inputImages: meta.inputImages }) : 0n;
    // the losers of hedged pairs: billed for exactly what their providers reported, at their own prices
    for (const h of run.hedgeUsage) {
      const u = { inputTokens: h.usage.prompt_tokens, outputTokens: h.usage.completion_tokens, cachedInputTokens: h.usage.prompt_tokens_details?.cached_tokens ?? 0 };
      inputTokens += u.inputTokens;
      outputTokens += u.outputTokens;
      cachedInputTokens += u.cachedInputTokens;
      cost += costNanoUsd(h.target.price, { ...u, inputImages: meta.inputImages });
    }
    const target = run.billed ?? lastTarget;
    return {
      requestId: meta.requestId,
      occurredAt: Date.now(),
      orgId: meta.orgId,
      teamId: meta.teamId,
      keyId: meta.keyId,
      endUser: meta.endUser,
      requestedModel: meta.model,
      providerId: target?.providerId ?? null,
      model: run.upstreamModel ?? target?.model ?? null,
      inputTokens,
      outputTokens,
      cachedInputTokens,
      inputImages: meta.inputImages,
      ...(meta.admissionId !== undefined && { admissionId: meta.admissionId }),
      costNanoUsd: cost.toString(),
      latencyMs: Math.max(0, Date.now() - meta.receivedAt),
      cacheStatus: meta.cacheStatus,
      status,
      errorCode: failure?.code ?? null,
      usageEstimated: estimated,
      stream: meta.stream,
      tags: meta.tags,
      attempts: run.attempts.length,
      mode: 'live',
      routing: run.story?.routing() ?? null,
    };
  }
}

function estimatedUsage(run: Run): Usage {
  const prompt = run.body ? estimateTokens(promptChars(run.body)) : 0;
  const completion = estimateTokens(run.outputChars);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function resultMeta(run: Run, target: PlanTarget): ResultMeta {
  const meta: ResultMeta = { providerId: target.providerId, model: run.upstreamModel ?? target.model, attempts: run.attempts };
  if (run.story) meta.route = run.story.header();
  return meta;
}
