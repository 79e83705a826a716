import { GatewayError } from '@gw/contracts';
import type { ProviderOptions, ResolvedProvider } from '../types.js';
import { signV4 } from './sigv4.js';

/**
 * Bedrock credentials and region. From the provider's config options (`region`, `accessKeyId`, `secretAccessKey`,
 * `sessionToken`), else from the usual AWS environment variables (AWS_REGION / AWS_DEFAULT_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Credentials are taken as a set: when the config
 * names an access key, no part of the environment's credentials is mixed in. A Bedrock API key (the provider's
 * `apiKey`, or AWS_BEARER_TOKEN_BEDROCK) is sent as a bearer token instead of a signature.
 */

export const SERVICE = 'bedrock';

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (v: string | undefined): string | undefined => (v !== undefined && v !== '' ? v : undefined);

export function optionsFromEnv(options: ProviderOptions, env: Env): ProviderOptions {
  const out: ProviderOptions = { ...options };
  out['region'] =
    nonEmpty(options['region']) ?? nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']);
  if (!nonEmpty(options['accessKeyId'])) {
    out['accessKeyId'] = nonEmpty(env['AWS_ACCESS_KEY_ID']);
    out['secretAccessKey'] = nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
    out['sessionToken'] = nonEmpty(env['AWS_SESSION_TOKEN']);
  }
  if (!nonEmpty(options['bearerToken'])) out['bearerToken'] = nonEmpty(env['AWS_BEARER_TOKEN_BEDROCK']);
  return out;
}

function region(provider: ResolvedProvider): string {
  const r = nonEmpty(provider.options['region']);
  if (r) return r;
  // the region is part of the signature; a custom base URL may carry it (bedrock-runtime.<region>.amazonaws.com)
  const m = /bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com/.exec(provider.baseUrl);
  if (m) return m[1]!;
  throw new GatewayError(
    'INTERNAL',
    `provider ${provider.id}: no AWS region (options.region, AWS_REGION or AWS_DEFAULT_REGION)`,
    { retryable: true },
  );
}

/** The headers of a Bedrock request: content headers, configured extras, then the signature over the final body. */
export function authorizedHeaders(
  provider: ResolvedProvider,
  method: 'POST' | 'GET',
  url: string,
  body: string,
  accept: string,
  now?: number,
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  for (const k in provider.headers) headers[k.toLowerCase()] = provider.headers[k] as string;
  // an API key given in the provider's config wins; then access keys (config, else environment); then an API key
  // from the environment
  const configuredKey = nonEmpty(provider.apiKey);
  const accessKeyId = nonEmpty(provider.options['accessKeyId']);
  const secretAccessKey = nonEmpty(provider.options['secretAccessKey']);
  if (!configuredKey && accessKeyId && secretAccessKey) {
    const signed = signV4({
      method,
      url,
      headers,
      body,
      region: region(provider),
      service: SERVICE,
      credentials: { accessKeyId, secretAccessKey, sessionToken: nonEmpty(provider.options['sessionToken']) },
      ...(now !== undefined ? { now } : {}),
    });
    return signed.headers;
  }
  const bearer = configuredKey ?? nonEmpty(provider.options['bearerToken']);
  if (bearer) {
    headers['authorization'] = `Bearer ${bearer}`;
    return headers;
  }
  throw new GatewayError(
    'INTERNAL',
    `provider ${provider.id}: no AWS credentials (options accessKeyId/secretAccessKey, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a Bedrock API key)`,
    {
      retryable: true,
    },
  );
}
