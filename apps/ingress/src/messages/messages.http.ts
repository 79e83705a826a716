import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngressSettings } from '../config/gateway-config.js';
import { GATEWAY_CONFIG } from '../config/tokens.js';
import { ChatService } from '../chat/chat.service.js';
import type { WireFormat } from '../chat/wire-format.js';
import { anthropicMessagesFormat } from './anthropic-format.js';

@Controller()
export class MessagesHttp {
  private readonly format: WireFormat;

  constructor(
    private readonly chat: ChatService,
    @Inject(GATEWAY_CONFIG) settings: IngressSettings,
  ) {
    this.format = anthropicMessagesFormat(settings.unsupportedParams);
  }

  /** The Anthropic Messages API; the reply (JSON or SSE, errors included) is written in Anthropic's format. */
  @Post('/v1/messages')
  messages(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.chat.handle(req, reply, this.format);
  }
}
