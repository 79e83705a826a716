import { GatewayError } from '@gw/contracts';
import type { ProviderOptions } from '../types.js';

/**
 * A default base URL with `{option}` placeholders filled from the provider's options (URI-encoded); a missing option
 * is a configuration error of that provider (retryable: another target of the plan may work).
 */
export function expandBaseUrl(template: string, options: ProviderOptions, providerId: string): string {
  return template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_m, name: string) => {
    const v = options[name];
    if (v === undefined || v === '')
      throw new GatewayError(
        'INTERNAL',
        `provider ${providerId}: its default base URL needs the option ${name}`,
        { retryable: true },
      );
    return encodeURIComponent(v);
  });
}
