import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import {
  contracts,
  GatewayError,
  HEADERS,
  ResultMeta,
  type RequestMeta,
  type StreamContract,
  type UsageEventInput,
} from '@gw/contracts';
import { errorFromFrame, HotClient, type Frame, type FrameStream } from '@gw/transport';
import type { FastifyReply } from 'fastify';
import type { IngressEnv } from '../config/env.js';
import type { IngressSettings } from '../config/gateway-config.js';
import type { ExactCache } from '@gw/exact-cache';
import { EXACT_CACHE, GATEWAY_CONFIG, INGRESS_ENV } from '../config/tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { Accepted } from './accepted.js';
import { traceparentFrom } from './request-headers.js';
import { FailOpen } from './fail-open.js';
import { SSE_HEADERS, SseWriter } from './sse.js';
import { UsagePublisher } from './usage.publisher.js';
import type { WireFormat } from './wire-format.js';

/** What the relay needs of a wire format: its errors, its non-stream bodies, its stream encoder. */
export type ReplyFormat = Pick<WireFormat, 'error' | 'response' | 'stream'>;

/**
 * The second half of every accepted request, whatever its wire format: the call to the router over the hot path,
 * then its frames to the client as one JSON body or as SSE (encoded by the format), cancellation when the client
 * goes away, the usage events the ingress owes (cache hits, failures nobody else recorded), and the cache store.
 */
@Injectable()
export class Relay {
  constructor(
    private readonly hot: HotClient,
    private readonly usage: UsagePublisher,
    private readonly metrics: MetricsService,
    @Inject(INGRESS_ENV) private readonly env: IngressEnv,
    @Inject(GATEWAY_CONFIG) private readonly settings: IngressSettings,
    @Inject(EXACT_CACHE) private readonly cache: ExactCache,
    private readonly failOpen: FailOpen,
  ) {}

  /** One listener per request: a close before the response finished is a client that went away. */
  watchClient(ctx: Accepted, reply: FastifyReply): void {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) this.clientGone(ctx);
    });
  }

  answerFromCache(ctx: Accepted, reply: FastifyReply, value: string, format: ReplyFormat): void {
    ctx.cacheStatus = 'hit';
    let model: string | null = null;
    // the stored answer's usage: billing prices it as the hit's saving (what the request would have cost)
    const tokens = { inputTokens: 0, outputTokens: 0 };
    try {
      const parsed = JSON.parse(value) as { model?: unknown; usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } };
      if (typeof parsed.model === 'string') model = parsed.model;
      if (Number.isSafeInteger(parsed.usage?.prompt_tokens)) tokens.inputTokens = Math.max(0, parsed.usage!.prompt_tokens as number);
      if (Number.isSafeInteger(parsed.usage?.completion_tokens)) tokens.outputTokens = Math.max(0, parsed.usage!.completion_tokens as number);
    } catch {
      // a cache entry is the executor's JSON text; a damaged one is still sent as stored
    }
    const overheadMs = performance.now() - ctx.t0;
    this.metrics.overhead.observe(overheadMs / 1000);
    this.metrics.cache.inc({ status: 'hit' });
    this.usage.publish({ ...this.usageEvent(ctx, { status: 'ok', errorCode: null, model }), ...tokens });
    void reply
      .code(200)
      .header('content-type', 'application/json')
      .header('x-gateway-cache', 'hit')
      .header('x-gateway-overhead-ms', overheadMs.toFixed(2))
      .send(asBody(format.response(Buffer.from(value, 'utf8'))));
  }

  /* ---------------- the hot path ---------------- */

  route(
    ctx: Accepted,
    contract: Pick<StreamContract, 'subject' | 'service'>,
    data: Uint8Array,
    reqHeaders: IncomingHttpHeaders,
  ): FrameStream {
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
      inputImages: ctx.inputImages,
      ...prefetchedAdmission(ctx),
    };
    this.metrics.cache.inc({ status: ctx.cacheStatus });
    const frames = this.hot.open(contract, data, {
      firstFrameTimeoutMs: Math.max(1, deadlineAt - Date.now()),
      idleTimeoutMs: this.env.STREAM_IDLE_TIMEOUT_MS,
      headers: {
        [HEADERS.requestId]: ctx.requestId,
        [HEADERS.model]: ctx.model,
        [HEADERS.meta]: JSON.stringify(meta),
        [HEADERS.deadline]: String(deadlineAt),
        [HEADERS.traceparent]: traceparentFrom(reqHeaders['traceparent']),
        // routing hints for the router: x-gateway-route-strategy and x-gateway-region (key, team, tags are in meta)
        ...routingHeaders(reqHeaders),
      },
    });
    ctx.frames = frames;
    return frames;
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
        throw new GatewayError(
          'SERVICE_UNAVAILABLE',
          `no answer within ${this.env.REQUEST_TIMEOUT_MS} ms: the gateway is not available`,
        );
      }
      throw e;
    }
  }

  async relayResponse(
    ctx: Accepted,
    reply: FastifyReply,
    frames: FrameStream,
    storeKey: string | null,
    format: ReplyFormat,
  ): Promise<void> {
    const frame = await this.firstOrFail(ctx, frames);
    if (!frame) return;
    ctx.frames = null; // answered: a close from here on cancels nothing
    if (frame.type !== 'response') {
      throw new GatewayError('INTERNAL', `unexpected ${frame.type} frame for a non-stream request`);
    }
    const result = resultMeta(frame);
    const overheadMs = this.overheadMs(ctx, result);
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    void reply
      .code(200)
      .header('content-type', 'application/json')
      .header('x-gateway-cache', ctx.cacheStatus)
      .header('x-gateway-provider', result?.providerId ?? '')
      .header('x-gateway-model', result?.model ?? '')
      .header('x-gateway-route', result?.route ?? '')
      .header('x-gateway-overhead-ms', overheadMs.toFixed(2))
      .send(asBody(format.response(data)));
    // stored after the answer went out (one SET EX, straight to Redis: ADR 0013); a failed store only costs a later miss
    if (storeKey) this.store(ctx.identity.teamId, storeKey, data.toString('utf8'));
  }

  private store(namespace: string, key: string, value: string): void {
    this.cache.set(namespace, key, value, this.settings.cache.ttlSeconds).then(
      (stored) => this.metrics.cacheStores.inc({ result: stored ? 'stored' : 'too_large' }),
      (err: unknown) => this.failOpen.record('cache', err),
    );
  }

  async relayStream(
    ctx: Accepted,
    reply: FastifyReply,
    frames: FrameStream,
    format: ReplyFormat,
  ): Promise<void> {
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
      ...(reply.getHeaders() as Record<string, string>), // x-ratelimit-* set at admission
      ...SSE_HEADERS,
      'x-request-id': ctx.requestId,
      'x-gateway-cache': ctx.cacheStatus,
      'x-gateway-provider': result?.providerId ?? '',
      'x-gateway-model': result?.model ?? '',
      'x-gateway-route': result?.route ?? '',
      'x-gateway-overhead-ms': overheadMs.toFixed(2),
    });
    res.flushHeaders();
    const sse = new SseWriter(res);
    const encoder = format.stream(ctx.requestId);
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
          sse.end(encoder.fail(e));
          return;
        }
        if (!f) return;
        switch (f.type) {
          case 'chunk': {
            const events = encoder.chunk(f.data);
            const wait = events === null ? undefined : sse.write(events);
            if (wait) await wait;
            break;
          }
          case 'end':
            sse.end(encoder.end());
            return;
          case 'error': {
            const e = errorFromFrame(f);
            if (!f.headers?.get(HEADERS.usageRecorded)) this.publishFailure(ctx, e.code, 'error');
            sse.end(encoder.fail(e));
            return;
          }
          case 'start':
          case 'response':
            this.cancel(ctx, frames, 'protocol error');
            sse.end(encoder.fail(new GatewayError('INTERNAL', `unexpected ${f.type} frame inside a stream`)));
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
      ctx.route = frame.headers?.get(HEADERS.route) || null;
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

  sendError(reply: FastifyReply, err: GatewayError, format: ReplyFormat): void {
    const { status, body } = format.error(err);
    if (reply.sent || reply.raw.headersSent) return;
    if (err.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(Math.ceil(err.retryAfterSeconds)));
    void reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
  }

  /* ---------------- usage ---------------- */

  publishFailure(ctx: Accepted, errorCode: string, status: 'error' | 'cancelled'): void {
    this.usage.publish(this.usageEvent(ctx, { status, errorCode, model: null }));
  }

  private usageEvent(
    ctx: Accepted,
    r: { status: 'ok' | 'error' | 'cancelled'; errorCode: string | null; model: string | null },
  ): UsageEventInput {
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
      inputImages: ctx.inputImages,
      ...prefetchedAdmission(ctx),
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

/** Fastify sends a Buffer as bytes and a string as text; a bare Uint8Array would be serialised as JSON. */
function asBody(body: Uint8Array | string): Buffer | string {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body;
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
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

/** The client's routing headers, as hot-path headers (only when sent, and only sane values). */
function routingHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const strategy = h['x-gateway-route-strategy'];
  const region = h['x-gateway-region'];
  if (typeof strategy === 'string' && strategy.length > 0 && strategy.length <= 64) out[HEADERS.routeStrategy] = strategy;
  if (typeof region === 'string' && region.length > 0 && region.length <= 64) out[HEADERS.region] = region;
  return out;
}

/** `admissionId` travels only when the holds are not under the request id (a prefetched admission, ADR 0019). */
function prefetchedAdmission(ctx: Accepted): { admissionId?: string } {
  return ctx.admissionId !== null && ctx.admissionId !== ctx.requestId ? { admissionId: ctx.admissionId } : {};
}
