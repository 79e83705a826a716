import { Controller, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EmbeddingsService } from './embeddings.service.js';

@Controller()
export class EmbeddingsHttp {
  constructor(private readonly embeddings: EmbeddingsService) {}

  /** OpenAI embeddings; the reply (errors included) is written by the service. */
  @Post('/v1/embeddings')
  create(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.embeddings.handle(req, reply);
  }
}
