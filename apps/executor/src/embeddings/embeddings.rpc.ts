import { Injectable } from '@nestjs/common';
import { Handles, type FrameWriter, type StreamRequest } from '@gw/transport';
import { EmbeddingsExecutor } from './embeddings.executor.js';

/** Hot-path handler of the executor's embeddings: one line. */
@Injectable()
export class EmbeddingsRpc {
  constructor(private readonly executor: EmbeddingsExecutor) {}

  @Handles('executorEmbeddings')
  embeddings(req: StreamRequest, out: FrameWriter): Promise<void> {
    return this.executor.handle(req, out);
  }
}
