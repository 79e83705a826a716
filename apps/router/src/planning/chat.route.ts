import { Injectable, Logger } from '@nestjs/common';
import { contracts, GatewayError, HEADERS, RequestMeta } from '@gw/contracts';
import { Handles, HotServer, type FrameWriter, type StreamRequest } from '@gw/transport';
import { CatalogueService } from './catalogue.service.js';

/**
 * routing.rpc.chat.v1: plan the request and hand it on to the executor with the plan in a header. The body is
 * parsed only when the model routes on content or context windows, and the answer goes from the executor straight
 * to the ingress's inbox.
 */
@Injectable()
export class ChatRoute {
  private readonly logger = new Logger('Route');

  constructor(
    private readonly server: HotServer,
    private readonly catalogue: CatalogueService,
  ) {}

  @Handles('routingChat')
  async chat(req: StreamRequest, out: FrameWriter): Promise<void> {
    const h = req.headers;
    const model = h?.get(HEADERS.model);
    if (!model) throw new GatewayError('INVALID_REQUEST', 'model is required', { param: 'model' });
    const meta = parseMeta(h?.get(HEADERS.meta));
    const { json, plan, promptClass } = this.catalogue.planner.plan({
      requestId: meta?.requestId ?? h?.get(HEADERS.requestId) ?? '',
      model,
      stream: meta?.stream ?? false,
      teamId: meta?.teamId ?? null,
      keyId: meta?.keyId ?? null,
      tags: meta?.tags ?? {},
      region: h?.get(HEADERS.region) || null,
      strategy: h?.get(HEADERS.routeStrategy) || null,
      body: req.data,
    });
    if (plan.skipped.length || promptClass) {
      this.logger.debug(
        `${meta?.requestId ?? '?'} ${model} ${plan.strategy}${promptClass ? ` class=${promptClass}` : ''}: ${plan.targets.map((t) => `${t.providerId}/${t.model}`).join(' > ')}; skipped ${plan.skipped.map((s) => `${s.providerId}/${s.model} (${s.reason})`).join(', ') || 'none'}`,
      );
    }
    void out;
    this.server.forward(contracts.executorChat.subject, req, { [HEADERS.plan]: json });
  }
}

function parseMeta(raw: string | undefined): RequestMeta | null {
  if (!raw) return null;
  try {
    const r = RequestMeta.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
