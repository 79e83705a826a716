import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { contracts, ModelsListRequest, type ModelsListResult } from '@gw/contracts';
import { CatalogueService } from '../planning/catalogue.service.js';

@Controller()
export class ModelsController {
  constructor(private readonly catalogue: CatalogueService) {}

  @MessagePattern(contracts.routingListModels.subject)
  list(@Payload() body: unknown): ModelsListResult {
    return { models: this.catalogue.catalogue.list(ModelsListRequest.parse(body).allowedModels) };
  }

  @MessagePattern(contracts.routerPing.subject)
  ping(): { service: string; at: number } {
    return { service: 'router', at: Date.now() };
  }
}
