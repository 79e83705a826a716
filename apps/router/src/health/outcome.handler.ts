import { Injectable } from '@nestjs/common';
import type { TargetOutcomeBatch } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { CatalogueService } from '../planning/catalogue.service.js';

/** routing.evt.target-outcomes.v1 (broadcast, no queue group): every replica folds every executor's outcomes, in order. */
@Injectable()
export class OutcomeHandler {
  constructor(private readonly catalogue: CatalogueService) {}

  @Handles('routingOutcomes')
  outcomes(batch: TargetOutcomeBatch): void {
    for (const e of batch.outcomes) this.catalogue.health.record(e);
  }
}
