import { Injectable, Logger } from '@nestjs/common';
import { contracts, GatewayError, HEADERS, type RequestMeta } from '@gw/contracts';
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
      requestId: meta?.requestId || h?.get(HEADERS.requestId) || '',
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

type RoutingMeta = Pick<RequestMeta, 'requestId' | 'stream' | 'teamId' | 'keyId' | 'tags'>;

/**
 * The fields of gw-meta the router routes on, read by hand (a full zod parse costs more than the whole plan).
 * The executor validates the header in full; a malformed one here only means no metadata to match policies on.
 */
function parseMeta(raw: string | undefined): RoutingMeta | null {
  if (!raw) return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : null);
  const tags: Record<string, string> = {};
  if (o['tags'] && typeof o['tags'] === 'object') for (const [k, t] of Object.entries(o['tags'])) if (typeof t === 'string') tags[k] = t;
  return { requestId: str(o['requestId']) ?? '', stream: o['stream'] === true, teamId: str(o['teamId']), keyId: str(o['keyId']), tags };
}
