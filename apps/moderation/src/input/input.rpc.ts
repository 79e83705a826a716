import { Injectable } from '@nestjs/common';
import type { ModerationCheckRequest, ModerationCheckResult } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { InputService } from './input.service.js';

/** moderation.rpc.check-input.v1 on the hot path (input validated by the HotServer). */
@Injectable()
export class InputRpc {
  constructor(private readonly input: InputService) {}

  @Handles('moderationCheckInput')
  async check(req: ModerationCheckRequest): Promise<ModerationCheckResult> {
    return this.input.check(req);
  }
}
