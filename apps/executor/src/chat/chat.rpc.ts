import { Injectable } from '@nestjs/common';
import type { CancelEvent } from '@gw/contracts';
import { Handles, type FrameWriter, type StreamRequest } from '@gw/transport';
import { ChatExecutor } from './chat.executor.js';

/** Hot-path handlers of the executor: one line each. */
@Injectable()
export class ChatRpc {
  constructor(private readonly executor: ChatExecutor) {}

  @Handles('executorChat')
  chat(req: StreamRequest, out: FrameWriter): Promise<void> {
    return this.executor.handle(req, out);
  }

  @Handles('executorCancel')
  cancel(event: CancelEvent): void {
    this.executor.cancel(event.requestId, event.reason);
  }
}
