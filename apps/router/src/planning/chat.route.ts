import { Injectable } from '@nestjs/common';
import { contracts, GatewayError, HEADERS } from '@gw/contracts';
import { Handles, HotServer, type FrameWriter, type StreamRequest } from '@gw/transport';
import { CatalogueService } from './catalogue.service.js';

/**
 * routing.rpc.chat.v1: plan the request and hand it on to the executor with the plan in a header. The body is
 * never parsed here, and the answer goes from the executor straight to the ingress's inbox.
 */
@Injectable()
export class ChatRoute {
  constructor(
    private readonly server: HotServer,
    private readonly catalogue: CatalogueService,
  ) {}

  @Handles('routingChat')
  async chat(req: StreamRequest, out: FrameWriter): Promise<void> {
    const model = req.headers?.get(HEADERS.model);
    if (!model) throw new GatewayError('INVALID_REQUEST', 'model is required', { param: 'model' });
    const { json } = this.catalogue.catalogue.plan(model);
    void out;
    this.server.forward(contracts.executorChat.subject, req, { [HEADERS.plan]: json });
  }
}
