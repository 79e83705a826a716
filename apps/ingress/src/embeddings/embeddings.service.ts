import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { contracts, EmbeddingsCreateRequest, GatewayError } from '@gw/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.js';
import type { Accepted } from '../chat/accepted.js';
import { invalidRequest } from '../chat/openai-format.js';
import { Relay, type ReplyFormat } from '../chat/relay.js';
import { LimitsService } from '../limits/limits.service.js';
import { tagsFrom } from '../chat/request-headers.js';
import { requireJsonBody } from '../http/json-body.js';
import { openAIError } from '../http/openai-error.js';

/** Embeddings answers are OpenAI JSON from the executor, sent as they are; there is no stream. */
const EMBEDDINGS_FORMAT: ReplyFormat = {
  error: openAIError,
  response: (body) => body,
  stream: () => {
    throw new GatewayError('INTERNAL', 'embeddings have no stream');
  },
};

/**
 * POST /v1/embeddings: validate (OpenAI's schema) → authenticate → model allowed → router over the hot path
 * (routing.rpc.embeddings.v1) → the executor's embeddings answer, relayed as it is. Neither moderated (the input
 * guardrails are about prompts to a model that answers) nor cached (cheap, and vectors are not worth a Redis entry):
 * x-gateway-cache is `bypass`. The executor records the usage; the ingress records failures nobody else did.
 */
@Injectable()
export class EmbeddingsService {
  private readonly logger = new Logger('Embeddings');

  constructor(
    private readonly auth: AuthService,
    private readonly relay: Relay,
    private readonly limits: LimitsService,
  ) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const t0 = performance.now();
    const receivedAt = Date.now();
    const requestId = req.id;
    let ctx: Accepted | null = null;
    try {
      const body = requireJsonBody(req.body);
      const identity = await this.auth.authenticate(req.headers);
      const parsed = EmbeddingsCreateRequest.safeParse(body.value);
      if (!parsed.success) throw invalidRequest(parsed.error.issues);
      const model = parsed.data.model;
      if (identity.models && !identity.models.includes(model)) {
        throw new GatewayError('FORBIDDEN', `this key may not use model ${model}`, { param: 'model' });
      }
      // rate limits + budget reservation, as for chat (an embedding is paid for too: input tokens, no output)
      const admission = await this.limits.admitTo(reply, { requestId, identity, model, bodyBytes: body.raw.byteLength, maxOutputTokens: 0, inputImages: 0 });
      const admissionId = admission.admissionId;
      if (admission.release && admissionId) reply.raw.once('close', () => this.limits.release(admissionId));
      ctx = {
        requestId,
        t0,
        receivedAt,
        identity,
        model,
        stream: false,
        includeUsage: false,
        endUser: parsed.data.user ?? null,
        tags: tagsFrom(req.headers['x-gateway-tags'], identity.tags),
        cacheStatus: 'bypass',
        inputImages: 0,
        admissionId: admission.admissionId,
        gone: false,
        route: null,
        frames: null,
      };
      this.relay.watchClient(ctx, reply);
      const frames = this.relay.route(ctx, contracts.routingEmbeddings, body.raw, req.headers);
      await this.relay.relayResponse(ctx, reply, frames, null, EMBEDDINGS_FORMAT);
    } catch (err) {
      const gwErr = err instanceof GatewayError ? err : GatewayError.from(err);
      if (gwErr.code === 'INTERNAL' && !(err instanceof GatewayError))
        this.logger.error(`${requestId}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (ctx) {
        if (ctx.gone) return;
        void reply.header('x-gateway-cache', ctx.cacheStatus);
      }
      this.relay.sendError(reply, gwErr, EMBEDDINGS_FORMAT);
    }
  }
}
