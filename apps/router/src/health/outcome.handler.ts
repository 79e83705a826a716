import { Injectable } from '@nestjs/common';
import type { TargetOutcomeEvent } from '@gw/contracts';
import { Handles } from '@gw/transport';
import { CatalogueService } from '../planning/catalogue.service.js';

/** routing.evt.target-outcome.v1 (broadcast, no queue group): every replica folds every executor's outcomes. */
@Injectable()
export class OutcomeHandler {
  constructor(private readonly catalogue: CatalogueService) {}

  @Handles('routingOutcome')
  outcome(event: TargetOutcomeEvent): void {
    this.catalogue.health.record(event);
  }
}
