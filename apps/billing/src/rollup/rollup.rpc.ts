import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { contracts, RollupDaysRequest, RollupRequest, type RollupDaysResult, type RollupResult } from '@gw/contracts';
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

  /** Idempotent: recomputes the given days, or every finished day whose daily rollup is missing or stale. */
  @MessagePattern(contracts.billingRollupDays.subject)
  async rollupDays(@Payload() body: unknown): Promise<RollupDaysResult> {
    const req = RollupDaysRequest.parse(body);
    const days = req.days ?? (await this.repo.staleDays(new Date()));
    const out: RollupDaysResult['days'] = [];
    for (const day of days) out.push({ day, rows: await this.repo.rollupDay(day) });
    return { days: out };
  }

  @MessagePattern(contracts.billingPing.subject)
  ping(): { service: string; at: number } {
    return { service: 'billing', at: Date.now() };
  }
}
