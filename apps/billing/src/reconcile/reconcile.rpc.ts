import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { contracts, ReconcileRequest, type ReconcileResult } from '@gw/contracts';
import { ReconcileService } from './reconcile.service.js';

@Controller()
export class ReconcileRpc {
  constructor(private readonly reconcile: ReconcileService) {}

  /** The worker calls it on a schedule; read-only apart from the run it records. */
  @MessagePattern(contracts.billingReconcile.subject)
  async run(@Payload() body: unknown): Promise<ReconcileResult> {
    ReconcileRequest.parse(body ?? {});
    return this.reconcile.run();
  }
}
