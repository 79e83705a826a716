import { Injectable } from '@nestjs/common';
import type { ModerationCheckRequest, ModerationCheckResult } from '@gw/contracts';
import { PolicyService } from '../policy/policy.service.js';
import { checkInput } from '@gw/guardrails';

@Injectable()
export class InputService {
  constructor(private readonly policies: PolicyService) {}

  check(req: ModerationCheckRequest): ModerationCheckResult {
    return checkInput(req.body, this.policies.policy.cardNumbers);
  }
}
