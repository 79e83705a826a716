import { Logger } from '@nestjs/common';
import {
  costNanoUsd,
  EmbeddingsCreateRequest,
  GatewayError,
  HEADERS,
  Plan,
  RequestMeta,
  type PlanTarget,
  type ResultMeta,
  type UsageEvent,
} from '@gw/contracts';
import type { ChatContext, EmbeddingsAdapter, EmbeddingsResponse } from '@gw/providers';
import type { FrameWriter, StreamRequest } from '@gw/transport';
import { parseBody, parseHeader } from '../chat/request-parsing.js';
import { estimateTokens } from '../chat/usage-estimate.js';
import type { ProviderDirectory, ResolvedTarget } from '../providers/provider-directory.js';
import type { UpstreamClient } from '../upstream/upstream.client.js';
import { mapAbort, readText } from '../upstream/upstream-errors.js';
import type { UsageRecorder } from '../usage/usage.recorder.js';

type Attempt = ResultMeta['attempts'][number];
type AbortWhy = 'timeout' | 'deadline';

/** The answer sent to the client: OpenAI's shape, each vector as floats or as base64 of little-endian float32. */
type EmbeddingsAnswer = Omit<EmbeddingsResponse, 'data'> & {
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
};

type Run = {
  meta: RequestMeta;
  body: EmbeddingsCreateRequest | null;
  attempts: Attempt[];
  /** the target whose answer is used: tokens and cost are billed against it */
  billed: PlanTarget | null;
  model: string | null;
  inputTokens: number;
  estimated: boolean;
};

/**
 * executor.rpc.embeddings.v1: the plan's targets in order, skipping those whose provider has no embeddings adapter;
 * one `response` frame (OpenAI embeddings JSON) or one `error` frame. A retryable failure moves to the next target.
 * Exactly one usage event per request taken (input tokens only; the provider's count, else ceil(chars / 4)).
 */
export class EmbeddingsExecutor {
  private readonly logger = new Logger('Embeddings');

  constructor(
    private readonly providers: ProviderDirectory,
    private readonly upstream: UpstreamClient,
    private readonly usage: UsageRecorder,
  ) {}

  async handle(req: StreamRequest, out: FrameWriter): Promise<void> {
    const meta = parseHeader(req.headers?.get(HEADERS.meta), RequestMeta);
    if (!meta) {
      out.error(new GatewayError('INVALID_REQUEST', 'executor: missing or malformed gw-meta header'));
      return;
    }
    const run: Run = {
      meta,
      body: null,
      attempts: [],
      billed: null,
      model: null,
      inputTokens: 0,
      estimated: false,
    };
    let failure: GatewayError | null = null;
    let lastTarget: PlanTarget | null = null;
    try {
      const plan = parseHeader(req.headers?.get(HEADERS.plan), Plan);
      if (!plan) throw new GatewayError('INTERNAL', 'executor: missing or malformed gw-plan header');
      const body = parseBody(req.data, EmbeddingsCreateRequest);
      run.body = body;
      let tried = 0;
      for (const target of plan.targets) {
        let resolved: ResolvedTarget;
        const t0 = Date.now();
        try {
          resolved = this.providers.resolve(target);
        } catch (err) {
          const e = GatewayError.from(err);
          run.attempts.push({
            providerId: target.providerId,
            model: target.model,
            ok: false,
            error: e.code,
            latencyMs: 0,
          });
          failure = e;
          continue;
        }
        const adapter = resolved.adapter.embeddings;
        if (!adapter) continue; // this provider type has no embeddings API: not a target for this request
        tried++;
        lastTarget = target;
        if (meta.deadlineAt <= Date.now())
          throw new GatewayError('DEADLINE_EXCEEDED', 'the request deadline passed', { status: 504 });
        try {
          const answer = await this.attempt(run, body, target, resolved, adapter);
          run.attempts.push({
            providerId: target.providerId,
            model: target.model,
            ok: true,
            latencyMs: Date.now() - t0,
          });
          const result: ResultMeta = {
            providerId: target.providerId,
            model: answer.model,
            attempts: run.attempts,
          };
          out.response(JSON.stringify(answer), { [HEADERS.result]: JSON.stringify(result) });
          failure = null;
          return;
        } catch (err) {
          const e = GatewayError.from(err);
          if (!(err instanceof GatewayError))
            this.logger.error(`${meta.requestId}: ${(err as Error).stack ?? String(err)}`);
          run.attempts.push({
            providerId: target.providerId,
            model: target.model,
            ok: false,
            error: e.code,
            latencyMs: Date.now() - t0,
          });
          failure = e;
          if (!e.retryable) break;
        }
      }
      if (tried === 0 && !failure) {
        const types = [...new Set(plan.targets.map((t) => t.providerType))].join(', ');
        throw new GatewayError(
          'INVALID_REQUEST',
          `model ${meta.model} does not support embeddings (its providers: ${types})`,
          { param: 'model' },
        );
      }
      throw failure ?? new GatewayError('PROVIDER_UNAVAILABLE', `no provider of ${meta.model} answered`);
    } catch (err) {
      failure = GatewayError.from(err);
      if (!(err instanceof GatewayError))
        this.logger.error(`${meta.requestId}: ${(err as Error).stack ?? String(err)}`);
      out.error(failure, { [HEADERS.usageRecorded]: '1' });
    } finally {
      this.usage.record(usageEvent(run, failure, lastTarget));
    }
  }

  private async attempt(
    run: Run,
    body: EmbeddingsCreateRequest,
    target: PlanTarget,
    resolved: ResolvedTarget,
    adapter: EmbeddingsAdapter,
  ): Promise<EmbeddingsAnswer> {
    const ctx: ChatContext = {
      model: target.model,
      requestId: run.meta.requestId,
      created: Math.floor(Date.now() / 1000),
    };
    const upstreamReq = adapter.buildRequest({ ...body, model: target.model }, resolved.provider, ctx);
    const ac = new AbortController();
    let why: AbortWhy | null = null;
    const abort = (w: AbortWhy) => {
      if (why) return;
      why = w;
      ac.abort();
    };
    const deadlineTimer = setTimeout(() => abort('deadline'), Math.max(0, run.meta.deadlineAt - Date.now()));
    const timer = setTimeout(() => abort('timeout'), target.timeoutMs);
    try {
      const res = await this.upstream.request(upstreamReq, ac.signal);
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw adapter.parseError(res.statusCode, await readText(res), res.headers);
      let json: unknown;
      try {
        json = await res.body.json();
      } catch (err) {
        if (err instanceof SyntaxError)
          throw new GatewayError('PROVIDER_ERROR', 'the upstream provider sent malformed JSON');
        throw err;
      }
      const parsed = adapter.parseResponse(json, ctx);
      run.billed = target;
      run.model = parsed.model;
      const reported = parsed.usage.prompt_tokens;
      run.inputTokens = reported > 0 ? reported : estimateTokens(inputChars(body.input));
      run.estimated = reported <= 0;
      return encode(parsed, body.encoding_format ?? 'float', run.inputTokens);
    } catch (err) {
      throw mapAbort(err, why, target, false);
    } finally {
      clearTimeout(timer);
      clearTimeout(deadlineTimer);
    }
  }
}

/** Characters (or token ids) of the input, for an estimate when the provider counts nothing. */
export function inputChars(input: EmbeddingsCreateRequest['input']): number {
  if (typeof input === 'string') return input.length;
  let n = 0;
  for (const x of input) {
    if (typeof x === 'string') n += x.length;
    else if (typeof x === 'number')
      n += 4; // one token id ≈ one token
    else n += x.length * 4;
  }
  return n;
}

/** Each vector in the encoding the client asked for; providers that only give floats are base64-encoded here. */
export function encode(
  r: EmbeddingsResponse,
  format: 'float' | 'base64',
  inputTokens: number,
): EmbeddingsAnswer {
  const data = r.data.map((d) => {
    // typed as numbers, but an OpenAI-style upstream asked for base64 answers with a string
    const v: unknown = d.embedding;
    let embedding: number[] | string = d.embedding;
    if (format === 'base64' && Array.isArray(v))
      embedding = Buffer.from(new Float32Array(v as number[]).buffer).toString('base64');
    else if (format === 'float' && typeof v === 'string') embedding = decodeFloats(v);
    else if (typeof v === 'string') embedding = v;
    return { object: 'embedding' as const, index: d.index, embedding };
  });
  return {
    object: 'list',
    data,
    model: r.model,
    usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
  };
}

function decodeFloats(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  const out = new Array<number>(Math.floor(buf.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function usageEvent(run: Run, failure: GatewayError | null, lastTarget: PlanTarget | null): UsageEvent {
  const { meta } = run;
  const target = run.billed ?? lastTarget;
  const inputTokens = run.billed ? run.inputTokens : 0;
  return {
    requestId: meta.requestId,
    occurredAt: Date.now(),
    orgId: meta.orgId,
    teamId: meta.teamId,
    keyId: meta.keyId,
    endUser: meta.endUser,
    requestedModel: meta.model,
    providerId: target?.providerId ?? null,
    model: run.model ?? target?.model ?? null,
    inputTokens,
    outputTokens: 0,
    cachedInputTokens: 0,
    inputImages: 0, // embeddings take text only
    ...(meta.admissionId !== undefined && { admissionId: meta.admissionId }),
    costNanoUsd: (run.billed
      ? costNanoUsd(run.billed.price, { inputTokens, outputTokens: 0 })
      : 0n
    ).toString(),
    latencyMs: Math.max(0, Date.now() - meta.receivedAt),
    cacheStatus: meta.cacheStatus,
    status: failure === null ? 'ok' : failure.code === 'CANCELLED' ? 'cancelled' : 'error',
    errorCode: failure?.code ?? null,
    usageEstimated: run.billed ? run.estimated : false,
    stream: false,
    tags: meta.tags,
    attempts: run.attempts.length,
    mode: 'live',
    // embeddings walk the plan in order (no hedging, no strategy of their own): the story is the attempts
    routing: {
      strategy: 'fallback',
      attempts: run.attempts.map((a) => ({
        providerId: a.providerId,
        model: a.model,
        outcome: a.ok ? ('ok' as const) : ('failed' as const),
        ...(a.error !== undefined ? { error: a.error } : {}),
        latencyMs: a.latencyMs,
      })),
    },
  };
}
