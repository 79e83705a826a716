import type { Identity, Limits } from '../auth/identity.js';

/** No limit of any kind (a key's or a team's). */
export const NO_LIMITS: Limits = { rpm: null, tpm: null, maxConcurrent: null, modelLimits: {} };

/** A resolved key for tests of limits and budgets: a member key with nothing limited, unless `over` says otherwise. */
export const testIdentity = (over: Partial<Identity> = {}): Identity => ({
  keyId: 'k1',
  keyHash: 'h',
  teamId: 't1',
  orgId: null,
  role: 'member',
  models: null,
  tags: {},
  expiresAt: null,
  revoked: false,
  keyLimits: NO_LIMITS,
  teamLimits: NO_LIMITS,
  keyBudget: null,
  teamBudget: null,
  ...over,
});
