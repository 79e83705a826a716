import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GatewayError } from '@gw/contracts';
import type { BillingEnv } from '../config/env.js';
import { BILLING_ENV } from '../config/tokens.js';
import { ReportsRepository } from '../reports/reports.repository.js';

export const FINANCE_ROLES: ReadonlySet<string> = new Set(['finance', 'admin']);

type HeaderBag = { headers: Record<string, string | string[] | undefined> };

/** The presented key: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: HeaderBag['headers']): string | null {
  const auth = headers['authorization'];
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  // compare digests: constant time whatever the lengths
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * The master key, or a live virtual key (looked up by its sha256 hash) whose role is in `roles`: 401 without a key
 * or with an unknown, revoked or expired one; 403 with another role.
 */
async function authorize(ctx: ExecutionContext, env: BillingEnv, repo: ReportsRepository, roles: ReadonlySet<string>, need: string): Promise<boolean> {
  const key = presentedKey(ctx.switchToHttp().getRequest<HeaderBag>().headers);
  if (!key) throw new GatewayError('UNAUTHENTICATED', 'missing API key: send Authorization: Bearer <key>');
  if (sameSecret(key, env.GATEWAY_MASTER_KEY)) return true;
  const role = await repo.keyRole(sha256Hex(key), new Date());
  if (role === null) throw new GatewayError('UNAUTHENTICATED', 'invalid API key');
  if (!roles.has(role)) throw new GatewayError('FORBIDDEN', need);
  return true;
}

/** The finance API: the master key, or a finance or admin key. */
@Injectable()
export class FinanceAuthGuard implements CanActivate {
  constructor(
    @Inject(BILLING_ENV) private readonly env: BillingEnv,
    private readonly repo: ReportsRepository,
  ) {}

  canActivate(ctx: ExecutionContext): Promise<boolean> {
    return authorize(ctx, this.env, this.repo, FINANCE_ROLES, 'this key may not read billing data: it needs the finance or admin role');
  }
}

const ADMIN_ROLES: ReadonlySet<string> = new Set(['admin']);

/** The billing side of the admin API (/admin/v1/prices): the master key, or an admin key. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(BILLING_ENV) private readonly env: BillingEnv,
    private readonly repo: ReportsRepository,
  ) {}

  canActivate(ctx: ExecutionContext): Promise<boolean> {
    return authorize(ctx, this.env, this.repo, ADMIN_ROLES, 'this key may not use the admin API: it needs the admin role');
  }
}
