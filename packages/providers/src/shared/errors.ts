import { GatewayError } from '@gw/contracts';

/**
 * The one rule for an upstream that refuses the gateway's credentials or account (401, 403, and the providers'
 * billing/permission variants), whatever the provider (ADR 0006): PROVIDER_ERROR 502, retryable, so the plan's
 * next target (another provider or key) serves the request; the attempt is recorded with its code, so the
 * misconfiguration shows in the logs and the request's attempts. The upstream message is never passed on: it may
 * quote the key.
 */
export function credentialsRejected(detail: string | number): GatewayError {
  return new GatewayError(
    'PROVIDER_ERROR',
    `the upstream provider rejected the gateway's credentials or account (${detail})`,
    { status: 502, retryable: true },
  );
}
