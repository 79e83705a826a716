import { Inject, Injectable } from '@nestjs/common';
import { contracts } from '@gw/contracts';
import { ControlClient } from '@gw/transport';
import type { WorkerEnv } from '../config/env.js';
import { WORKER_ENV } from '../config/tokens.js';
import { hoursToRollUp, RollupJobData, type RollupJobResult } from '../queues/queues.js';

/** What a rollup job does: ask billing to recompute each hour (billing's rollup is idempotent, so a retry is safe). */
@Injectable()
export class RollupService {
  constructor(
    private readonly control: ControlClient,
    @Inject(WORKER_ENV) private readonly env: WorkerEnv,
  ) {}

  /** `firedAt`: when the scheduler meant the job to run; hours default to the one before it and its own. */
  async run(data: RollupJobData, firedAt: Date): Promise<RollupJobResult> {
    const hours = data.hourStarts ?? hoursToRollUp(firedAt);
    const out: RollupJobResult['hours'] = [];
    for (const hourStart of hours) {
      const r = await this.control.send(contracts.billingRollupHour, { hourStart }, this.env.ROLLUP_RPC_TIMEOUT_MS);
      out.push({ hourStart: r.hourStart, rows: r.rows });
    }
    return { hours: out };
  }
}
