import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { contracts } from '@gw/contracts';

@Controller()
export class PingController {
  @MessagePattern(contracts.moderationPing.subject)
  ping(): { service: string; at: number } {
    return { service: 'moderation', at: Date.now() };
  }
}
