import { Controller, Get, Req } from '@nestjs/common';
import { contracts } from '@gw/contracts';
import { ControlClient } from '@gw/transport';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.js';

export type ModelList = { object: 'list'; data: Array<{ id: string; object: 'model'; created: number; owned_by: string }> };

/** The creation time we report for every model: the router does not know one, and OpenAI's SDKs require a number. */
const CREATED = 1_700_000_000;

@Controller()
export class ModelsHttp {
  constructor(
    private readonly auth: AuthService,
    private readonly control: ControlClient,
  ) {}

  /** The models this key may use, as an OpenAI list. */
  @Get('/v1/models')
  async list(@Req() req: FastifyRequest): Promise<ModelList> {
    const identity = await this.auth.authenticate(req.headers);
    const { models } = await this.control.send(contracts.routingListModels, { allowedModels: identity.models }, 5_000);
    return { object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', created: CREATED, owned_by: m.ownedBy })) };
  }
}
