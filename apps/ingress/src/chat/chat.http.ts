import { Controller, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChatService } from './chat.service.js';

@Controller()
export class ChatHttp {
  constructor(private readonly chat: ChatService) {}

  /** The reply is written by the service (JSON or SSE), errors included: Nest does not touch it. */
  @Post('/v1/chat/completions')
  completions(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.chat.handle(req, reply);
  }
}
