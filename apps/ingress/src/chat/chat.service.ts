import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { contracts, countInputImages, GatewayError, type ModerationCheckResult } from '@gw/contracts';
import { HotClient } from '@gw/transport';
import type { ExactCache } from '@gw/exact-cache';
import { checkInput } from '@gw/guardrails';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngressEnv } from '../config/env.js';
import type { IngressSettings } from '../config/gateway-config.js';
import { EXACT_CACHE, GATEWAY_CONFIG, INGRESS_ENV } from '../config/tokens.js';
import { AuthService } from '../auth/auth.service.js';
import { requireJsonBody } from '../http/json-body.js';
import { LimitsService } from '../limits/limits.service.js';
import type { Accepted } from './accepted.js';
import { chatCacheKey } from './cache-key.js';
import { openAIChatFormat } from './openai-format.js';
import { FailOpen } from './fail-open.js';
import { Relay } from './relay.js';
import { cacheDirectiveFrom, tagsFrom } from './request-headers.js';
import type { WireFormat } from './wire-format.js';

/**
 * Chat in any wire format (POST /v1/chat/completions, POST /v1/messages): validate and translate (the format) →
 * authenticate → limits and budget → input check (in process) → exact-cache read (Redis) → router over the hot path → the Relay answers in the client's format.
 * See README.md for the decisions (status codes, headers, usage ownership).
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger('Chat');
  private readonly moderationOn: boolean;

  constructor(
    private readonly hot: HotClient,
    private readonly auth: AuthService,
    private readonly relay: Relay,
    private readonly limits: LimitsService,
    @Inject(INGRESS_ENV) private readonly env: IngressEnv,
    @Inject(GATEWAY_CONFIG) private readonly settings: IngressSettings,
    @Inject(EXACT_CACHE) private readonly cache: ExactCache,
    private readonly failOpen: FailOpen,
  ) {
    this.moderationOn = settings.moderation.cardNumbers !== 'off';
  }

  async handle(req: FastifyRequest, reply: FastifyReply, format: WireFormat = openAIChatFormat): Promise<void> {
    const t0 = performance.now();
    const receivedAt = Date.now();
    const requestId = req.id; // the client's x-request-id when sane (see app.ts genReqId), already set on the reply
    let ctx: Accepted | null = null;
    try {
      const body = requireJsonBody(req.body);
      const identity = await this.auth.authenticate(req.headers);
      const internal = format.accept(body);
      const chat = internal.chat;
      if (identity.models && !identity.models.includes(chat.model)) {
        throw new GatewayError('FORBIDDEN', `this key may not use model ${chat.model}`, { param: 'model' });
      }
      const stream = chat.stream === true;
      // counted once, on the internal form whatever the wire format: reserved, carried to the executor, billed
      const inputImages = countInputImages(chat.messages);
      const directive = cacheDirectiveFrom(req.headers['x-gateway-cache']);
      const cacheable = !stream && this.settings.cache.enabled && directive !== 'no-cache,no-store';
      // the input check runs in process (microseconds), so it goes first: a block or a redaction wins over a hit,
      // and the cache is read (one Redis GET) only for an input that passes unchanged
      const cacheKey = cacheable ? chatCacheKey(internal.cacheBody) : null;
      const verdict = this.moderationOn ? this.moderate(internal.raw) : null;
      // the GET goes out together with the admission script, so their two Redis round trips overlap; a refused
      // request only discards what it read from its own team's namespace (lookup never rejects: fail open)
      const lookup = cacheKey && directive !== 'no-cache' && (verdict === null || verdict.action === 'allow') ? this.lookup(identity.teamId, cacheKey) : null;
      // rate limits + budget reservation (one Redis script); billing settles it from the usage event
      const admission = await this.limits.admitTo(reply, { requestId, identity, model: chat.model, bodyBytes: body.raw.byteLength, maxOutputTokens: chat.max_completion_tokens ?? chat.max_tokens ?? null, inputImages });
      const admissionId = admission.admissionId;
      if (admission.release && admissionId) reply.raw.once('close', () => this.limits.release(admissionId));
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
        inputImages,
        admissionId: admission.admissionId,
        gone: false,
        route: null,
        frames: null,
      };
      this.relay.watchClient(ctx, reply);

      const cached = lookup ? await lookup : null;
      if (verdict?.action === 'block') {
        throw new GatewayError('MODERATION_BLOCKED', `request blocked by the content policy${verdict.reason ? `: ${verdict.reason}` : ''}`);
      }
      let data: Uint8Array = internal.raw;
      if (verdict?.action === 'redact' && verdict.body !== undefined) {
        data = Buffer.from(verdict.body, 'utf8');
        ctx.cacheStatus = 'bypass'; // the answer is to another text than the client's: neither served nor stored
      } else if (cached !== null) {
        this.relay.answerFromCache(ctx, reply, cached, format);
        return;
      }
      if (ctx.gone) {
        this.relay.publishFailure(ctx, 'CANCELLED', 'cancelled');
        return;
      }
      const store = ctx.cacheStatus === 'miss' && directive !== 'no-store' && cacheKey ? cacheKey : null;
      const frames = this.relay.route(ctx, contracts.routingChat, data, req.headers);
      if (stream) await this.relay.relayStream(ctx, reply, frames, format);
      else await this.relay.relayResponse(ctx, reply, frames, store, format);
    } catch (err) {
      const gwErr = err instanceof GatewayError ? err : GatewayError.from(err);
      if (gwErr.code === 'INTERNAL' && !(err instanceof GatewayError)) this.logger.error(`${requestId}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (ctx) {
        if (ctx.gone) return;
        // failures before routing that the ingress itself decided (block) are billed here, at cost 0
        if (gwErr.code === 'MODERATION_BLOCKED') this.relay.publishFailure(ctx, gwErr.code, 'error');
        void reply.header('x-gateway-cache', ctx.cacheStatus);
        if (ctx.route) void reply.header('x-gateway-route', ctx.route);
      }
      this.relay.sendError(reply, gwErr, format);
    }
  }

  /* ---------------- side calls (fail open) ---------------- */

  /** The input guardrails in process (@gw/guardrails, the same check the moderation service serves): no NATS hop. */
  private moderate(raw: Buffer): ModerationCheckResult | null {
    try {
      return checkInput(raw.toString('utf8'), this.settings.moderation.cardNumbers);
    } catch (err) {
      // the body parsed once already; a check that still throws must not take the request down (fail open)
      this.failOpen.record('moderation', err);
      return null;
    }
  }

  /** The exact cache read straight from Redis (@gw/exact-cache); Redis down or slow is a miss (fail open). */
  private async lookup(namespace: string, key: string): Promise<string | null> {
    try {
      return await this.cache.get(namespace, key);
    } catch (err) {
      this.failOpen.record('cache', err);
      return null;
    }
  }

}
