import { Injectable } from '@nestjs/common';
import { contracts, GatewayError, HEADERS } from '@gw/contracts';
import { Handles, HotServer, type FrameWriter, type StreamRequest } from '@gw/transport';
import { CatalogueService } from './catalogue.service.js';

/**
 * routing.rpc.embeddings.v1: the same plan as a chat request of that model name, handed on to the executor's
 * embeddings handler. The executor skips the targets whose provider has no embeddings adapter (the router does not
 * know adapters), so a model served only by such providers is a clear 400 from there.
 */
@Injectable()
export class EmbeddingsRoute {
  constructor(
    private readonly server: HotServer,
    private readonly catalogue: CatalogueService,
  ) {}

  @Handles('routingEmbeddings')
  async embeddings(req: StreamRequest, out: FrameWriter): Promise<void> {
    const model = req.headers?.get(HEADERS.model);
    if (!model) throw new GatewayError('INVALID_REQUEST', 'model is required', { param: 'model' });
    const { json } = this.catalogue.catalogue.plan(model);
    void out;
    this.server.forward(contracts.executorEmbeddings.subject, req, { [HEADERS.plan]: json });
  }
}
