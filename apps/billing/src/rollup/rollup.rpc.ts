import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { contracts, RollupRequest, type RollupResult } from '@gw/contracts';
import { hourStartOf, RollupRepository } from './rollup.repository.js';

@Controller()
export class RollupRpc {
  constructor(private readonly repo: RollupRepository) {}

  /** Idempotent: recomputes the hour from the raw records. The worker calls it every hour. */
  @MessagePattern(contracts.billingRollupHour.subject)
  async rollupHour(@Payload() body: unknown): Promise<RollupResult> {
    const hourStart = hourStartOf(RollupRequest.parse(body).hourStart);
    return { rows: await this.repo.rollupHour(hourStart), hourStart: hourStart.toISOString() };
  }

  @MessagePattern(contracts.billingPing.subject)
  ping(): { service: string; at: number } {
    return { service: 'billing', at: Date.now() };
  }
}
