import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ChatCompletionRequest,
  contracts,
  GatewayError,
  HEADERS,
  ResultMeta,
  type ModerationCheckResult,
  type RequestMeta,
  type UsageEventInput,
} from '@gw/contracts';
import { decodeText, errorFromFrame, HotClient, type Frame, type FrameStream } from '@gw/transport';
import type { ExactCacheReader } from '@gw/exact-cache';
import { checkInput } from '@gw/guardrails';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngressEnv } from '../config/env.js';
import type { IngressSettings } from '../config/gateway-config.js';
import { EXACT_CACHE, GATEWAY_CONFIG, INGRESS_ENV } from '../config/tokens.js';
import { AuthService } from '../auth/auth.service.js';
import type { Identity } from '../auth/identity.js';
import { requireJsonBody } from '../http/json-body.js';
import { openAIError, paramPath } from '../http/openai-error.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { chatCacheKey } from './cache-key.js';
import { cacheDirectiveFrom, tagsFrom, traceparentFrom } from './request-headers.js';
import { SSE_HEADERS, SseWriter } from './sse.js';
import { UsagePublisher } from './usage.publisher.js';

type CacheStatus = 'hit' | 'miss' | 'bypass';

/** An accepted request (authenticated and valid): from here on it is answered or failed, and billed once. */
type Accepted = {
  requestId: string;
  t0: number;
  receivedAt: number;
  identity: Identity;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  endUser: string | null;
  tags: Record<string, string>;
  cacheStatus: CacheStatus;
  /** the client closed the connection before the answer was complete */
  gone: boolean;
  /** the open call to the router while one is in flight */
  frames: FrameStream | null;
};

const FAIL_OPEN_LOG_EVERY_MS = 5_000;

/**
 * POST /v1/chat/completions: validate → authenticate → (moderation ∥ cache lookup) → router over the hot path
 * → JSON or SSE to the client. See README.md for the decisions (status codes, headers, usage ownership).
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger('Chat');
  private readonly moderationOn: boolean;
  private readonly lastFailOpenLog = new Map<string, number>();

  constructor(
    private readonly hot: HotClient,
    private readonly auth: AuthService,
    private readonly usage: UsagePublisher,
    private readonly metrics: MetricsService,
    @Inject(INGRESS_ENV) private readonly env: IngressEnv,
    @Inject(GATEWAY_CONFIG) private readonly settings: IngressSettings,
    @Inject(EXACT_CACHE) private readonly cache: ExactCacheReader,
  ) {
    this.moderationOn = settings.moderation.cardNumbers !== 'off';
  }

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const t0 = performance.now();
    const receivedAt = Date.now();
    const requestId = req.id; // the client's x-request-id when sane (see app.ts genReqId), already set on the reply
    let ctx: Accepted | null = null;
    try {
      const body = requireJsonBody(req.body);
      const identity = await this.auth.authenticate(req.headers);
      const parsed = ChatCompletionRequest.safeParse(body.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const param = issue ? paramPath(issue.path) : null;
        throw new GatewayError('INVALID_REQUEST', issue ? `${param ? `${param}: ` : ''}${issue.message}` : 'invalid request', { param });
      }
      const chat = parsed.data;
      if (identity.models && !identity.models.includes(chat.model)) {
        throw new GatewayError('FORBIDDEN', `this key may not use model ${chat.model}`, { param: 'model' });
      }
      const stream = chat.stream === true;
      const directive = cacheDirectiveFrom(req.headers['x-gateway-cache']);
      const cacheable = !stream && this.settings.cache.enabled && directive !== 'no-cache,no-store';
      ctx = {
        requestId,
        t0,
        receivedAt,
        identity,
        model: chat.model,
        stream,
        includeUsage: stream && chat.stream_options?.include_usage === true,
        endUser: chat.user ?? null,
        tags: tagsFrom(req.headers['x-gateway-tags'], identity.tags),
        cacheStatus: cacheable ? 'miss' : 'bypass',
        gone: false,
        frames: null,
      };
      const accepted = ctx;
      // one listener per request: a close before the response finished is a client that went away
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) this.clientGone(accepted);
      });

      // the input check runs in process (microseconds), so it goes first: a block or a redaction wins over a hit,
      // and the cache is read (one Redis GET) only for an input that passes unchanged
      const cacheKey = cacheable ? chatCacheKey(body.value as Record<string, unknown>) : null;
      const verdict = this.moderationOn ? this.moderate(body.raw) : null;
      const cached = cacheKey && directive !== 'no-cache' && (verdict === null || verdict.action === 'allow') ? await this.lookup(identity.teamId, cacheKey) : null;
      if (verdict?.action === 'block') {
        throw new GatewayError('MODERATION_BLOCKED', `request blocked by the content policy${verdict.reason ? `: ${verdict.reason}` : ''}`);
      }
      let data: Uint8Array = body.raw;
      if (verdict?.action === 'redact' && verdict.body !== undefined) {
        data = Buffer.from(verdict.body, 'utf8');
        ctx.cacheStatus = 'bypass'; // the answer is to another text than the client's: neither served nor stored
      } else if (cached !== null) {
        this.answerFromCache(ctx, reply, cached);
        return;
      }
      if (ctx.gone) {
        this.publishFailure(ctx, 'CANCELLED', 'cancelled');
        return;
      }
      const store = ctx.cacheStatus === 'miss' && directive !== 'no-store' && cacheKey ? cacheKey : null;
      const frames = this.route(ctx, data, req.headers['traceparent']);
      ctx.frames = frames;
      if (stream) await this.relayStream(ctx, reply, frames);
      else await this.relayResponse(ctx, reply, frames, store);
    } catch (err) {
      const gwErr = err instanceof GatewayError ? err : GatewayError.from(err);
      if (gwErr.code === 'INTERNAL' && !(err instanceof GatewayError)) this.logger.error(`${requestId}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (ctx) {
        if (ctx.gone) return;
        // failures before routing that the ingress itself decided (block) are billed here, at cost 0
        if (gwErr.code === 'MODERATION_BLOCKED') this.publishFailure(ctx, gwErr.code, 'error');
        void reply.header('x-gateway-cache', ctx.cacheStatus);
      }
      this.sendError(reply, gwErr);
    }
  }

  /* ---------------- side calls (fail open) ---------------- */

  /** The input guardrails in process (@gw/guardrails, the same check the moderation service serves): no NATS hop. */
  private moderate(raw: Buffer): ModerationCheckResult | null {
    try {
      return checkInput(raw.toString('utf8'), this.settings.moderation.cardNumbers);
    } catch (err) {
      // the body parsed once already; a check that still throws must not take the request down (fail open)
      this.failOpen('moderation', err);
      return null;
    }
  }

  /** The exact cache read straight from Redis (@gw/exact-cache); Redis down or slow is a miss (fail open). */
  private async lookup(namespace: string, key: string): Promise<string | null> {
    try {
      return await this.cache.get(namespace, key);
    } catch (err) {
      this.failOpen('cache', err);
      return null;
    }
  }

  private failOpen(dependency: 'moderation' | 'cache', err: unknown): void {
    this.metrics.failOpen.inc({ dependency });
    const now = Date.now();
    if (now - (this.lastFailOpenLog.get(dependency) ?? 0) < FAIL_OPEN_LOG_EVERY_MS) return;
    this.lastFailOpenLog.set(dependency, now);
    const why = err instanceof GatewayError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : 'unexpected error';
    this.logger.warn(`${dependency} unavailable, going on without it (fail open; logged at most every ${FAIL_OPEN_LOG_EVERY_MS} ms): ${why}`);
  }

  private answerFromCache(ctx: Accepted, reply: FastifyReply, value: string): void {
    ctx.cacheStatus = 'hit';
    let model: string | null = null;
    try {
      const parsed = JSON.parse(value) as { model?: unknown };
      if (typeof parsed.model === 'string') model = parsed.model;
    } catch {
      // a cache entry is the executor's JSON text; a damaged one is still sent as stored
    }
    const overheadMs = performance.now() - ctx.t0;
    this.metrics.overhead.observe(overheadMs / 1000);
    this.metrics.cache.inc({ status: 'hit' });
    this.usage.publish(this.usageEvent(ctx, { status: 'ok', errorCode: null, model }));
    void reply
      .code(200)
      .header('content-type', 'application/json')
      .header('x-gateway-cache', 'hit')
      .header('x-gateway-overhead-ms', overheadMs.toFixed(2))
      .send(value);
  }

  /* ---------------- the hot path ---------------- */

  private route(ctx: Accepted, data: Uint8Array, traceparent: string | string[] | undefined): FrameStream {
    const deadlineAt = ctx.receivedAt + this.env.REQUEST_TIMEOUT_MS;
    const meta: RequestMeta = {
      requestId: ctx.requestId,
      model: ctx.model,
      stream: ctx.stream,
      includeUsage: ctx.includeUsage,
      orgId: ctx.identity.orgId,
      teamId: ctx.identity.teamId,
      keyId: ctx.identity.keyId,
      endUser: ctx.endUser,
      tags: ctx.tags,
      allowedModels: ctx.identity.models,
      deadlineAt,
      receivedAt: ctx.receivedAt,
      cacheStatus: ctx.cacheStatus,
    };
    this.metrics.cache.inc({ status: ctx.cacheStatus });
    return this.hot.open(contracts.routingChat, data, {
      firstFrameTimeoutMs: Math.max(1, deadlineAt - Date.now()),
      idleTimeoutMs: this.env.STREAM_IDLE_TIMEOUT_MS,
      headers: {
        [HEADERS.requestId]: ctx.requestId,
        [HEADERS.model]: ctx.model,
        [HEADERS.meta]: JSON.stringify(meta),
        [HEADERS.deadline]: String(deadlineAt),
        [HEADERS.traceparent]: traceparentFrom(traceparent),
      },
    });
  }

  /** Waits for the first frame; a missing responder or no first frame in time is 503, a client gone is null. */
  private async first(ctx: Accepted, frames: FrameStream): Promise<Frame | null> {
    try {
      return await frames.next();
    } catch (err) {
      if (ctx.gone) return null;
      const e = err instanceof GatewayError ? err : GatewayError.from(err);
      // nobody answered in time: the router (or the executor behind it) is not there → 503, and the request is cancelled
      if (e.code === 'DEADLINE_EXCEEDED') {
        this.cancel(ctx, frames, 'deadline');
        throw new GatewayError('SERVICE_UNAVAILABLE', `no answer within ${this.env.REQUEST_TIMEOUT_MS} ms: the gateway is not available`);
      }
      throw e;
    }
  }

  private async relayResponse(ctx: Accepted, reply: FastifyReply, frames: FrameStream, storeKey: string | null): Promise<void> {
    const frame = await this.firstOrFail(ctx, frames);
    if (!frame) return;
    ctx.frames = null; // answered: a close from here on cancels nothing
    if (frame.type !== 'response') {
      throw new GatewayError('INTERNAL', `unexpected ${frame.type} frame for a non-stream request`);
    }
    const result = resultMeta(frame);
    const overheadMs = this.overheadMs(ctx, result);
    if (storeKey) {
      this.hot.emit(
        contracts.cacheStore,
        { namespace: ctx.identity.teamId, key: storeKey, value: decodeText(frame.data), ttlSeconds: this.settings.cache.ttlSeconds },
        ctx.requestId,
      );
    }
    void reply
      .code(200)
      .header('content-type', 'application/json')
      .header('x-gateway-cache', ctx.cacheStatus)
      .header('x-gateway-provider', result?.providerId ?? '')
      .header('x-gateway-model', result?.model ?? '')
      .header('x-gateway-overhead-ms', overheadMs.toFixed(2))
      .send(Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength));
  }

  private async relayStream(ctx: Accepted, reply: FastifyReply, frames: FrameStream): Promise<void> {
    const frame = await this.firstOrFail(ctx, frames);
    if (!frame) return;
    if (frame.type !== 'start') {
      this.cancel(ctx, frames, 'protocol error');
      throw new GatewayError('INTERNAL', `unexpected ${frame.type} frame at the start of a stream`);
    }
    const result = resultMeta(frame);
    const overheadMs = this.overheadMs(ctx, result);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SSE_HEADERS,
      'x-request-id': ctx.requestId,
      'x-gateway-cache': ctx.cacheStatus,
      'x-gateway-provider': result?.providerId ?? '',
      'x-gateway-model': result?.model ?? '',
      'x-gateway-overhead-ms': overheadMs.toFixed(2),
    });
    res.flushHeaders();
    const sse = new SseWriter(res);
    try {
      for (;;) {
        let f: Frame | null;
        try {
          f = await frames.next();
        } catch (err) {
          if (ctx.gone) return;
          const e = err instanceof GatewayError ? err : GatewayError.from(err);
          // the executor went silent mid-stream: stop it, bill what we know, tell the client
          this.cancel(ctx, frames, e.code === 'DEADLINE_EXCEEDED' ? 'stream idle timeout' : 'stream failed');
          this.publishFailure(ctx, e.code, 'error');
          sse.fail(openAIError(e).body);
          return;
        }
        if (!f) return;
        switch (f.type) {
          case 'chunk': {
            const wait = sse.chunk(f.data);
            if (wait) await wait;
            break;
          }
          case 'end':
            sse.done();
            return;
          case 'error': {
            const e = errorFromFrame(f);
            if (!f.headers?.get(HEADERS.usageRecorded)) this.publishFailure(ctx, e.code, 'error');
            sse.fail(openAIError(e).body);
            return;
          }
          case 'start':
          case 'response':
            this.cancel(ctx, frames, 'protocol error');
            sse.fail(openAIError(new GatewayError('INTERNAL', `unexpected ${f.type} frame inside a stream`)).body);
            return;
        }
      }
    } finally {
      ctx.frames = null;
    }
  }

  /** The first frame, with `error` frames turned into thrown GatewayErrors (and billed when nobody else did). */
  private async firstOrFail(ctx: Accepted, frames: FrameStream): Promise<Frame | null> {
    let frame: Frame | null;
    try {
      frame = await this.first(ctx, frames);
    } catch (err) {
      const code = err instanceof GatewayError ? err.code : 'INTERNAL';
      this.publishFailure(ctx, code, 'error');
      throw err;
    }
    if (!frame) return null;
    if (frame.type === 'error') {
      const e = errorFromFrame(frame);
      if (!frame.headers?.get(HEADERS.usageRecorded)) this.publishFailure(ctx, e.code, 'error');
      throw e;
    }
    return frame;
  }

  /** The client went away: stop listening, and tell the executor (every replica hears it) to stop paying upstream. */
  private clientGone(ctx: Accepted): void {
    if (ctx.gone) return;
    ctx.gone = true;
    const frames = ctx.frames;
    if (frames) this.cancel(ctx, frames, 'client closed');
  }

  private cancel(ctx: Accepted, frames: FrameStream, reason: string): void {
    ctx.frames = null;
    frames.close();
    this.hot.emit(contracts.executorCancel, { requestId: ctx.requestId, reason }, ctx.requestId);
  }

  /**
   * x-gateway-overhead-ms: wall time in the gateway from the request's arrival to the response headers, minus
   * the upstream attempts' latency as the executor measured it (ResultMeta.attempts[].latencyMs). What remains is
   * our own parsing, auth, side calls, NATS hops, planning and translation.
   */
  private overheadMs(ctx: Accepted, result: ResultMeta | null): number {
    let upstreamMs = 0;
    if (result) for (const a of result.attempts) upstreamMs += a.latencyMs;
    const overheadMs = Math.max(0, performance.now() - ctx.t0 - upstreamMs);
    this.metrics.overhead.observe(overheadMs / 1000);
    return overheadMs;
  }

  private sendError(reply: FastifyReply, err: GatewayError): void {
    const { status, body } = openAIError(err);
    if (reply.sent || reply.raw.headersSent) return;
    if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.ceil(err.retryAfterSeconds)));
    void reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
  }

  /* ---------------- usage ---------------- */

  private publishFailure(ctx: Accepted, errorCode: string, status: 'error' | 'cancelled'): void {
    this.usage.publish(this.usageEvent(ctx, { status, errorCode, model: null }));
  }

  private usageEvent(ctx: Accepted, r: { status: 'ok' | 'error' | 'cancelled'; errorCode: string | null; model: string | null }): UsageEventInput {
    return {
      requestId: ctx.requestId,
      occurredAt: Date.now(),
      orgId: ctx.identity.orgId,
      teamId: ctx.identity.teamId,
      keyId: ctx.identity.keyId,
      endUser: ctx.endUser,
      requestedModel: ctx.model,
      providerId: null,
      model: r.model,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      costNanoUsd: '0',
      latencyMs: Math.round(performance.now() - ctx.t0),
      cacheStatus: ctx.cacheStatus,
      status: r.status,
      errorCode: r.errorCode,
      usageEstimated: false,
      stream: ctx.stream,
      tags: ctx.tags,
      attempts: 0,
    };
  }
}

function resultMeta(frame: Frame): ResultMeta | null {
  const raw = frame.headers?.get(HEADERS.result);
  if (!raw) return null;
  try {
    const parsed = ResultMeta.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
