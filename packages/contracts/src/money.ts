import type { PriceConfig } from './config.js';

/**
 * Money is exact: nano-USD in a bigint (1 USD = 1e9 nano-USD). Config prices are USD per million tokens;
 * they are converted once to nano-USD per million tokens (an integer), and a cost is rounded half up to
 * the nano-USD only at the end.
 */
export const NANO_PER_USD = 1_000_000_000n;

/** Prices repeat (a few per model): each distinct one is converted once (bounded: cleared when full). */
const nanoOf = new Map<number, bigint>();
const NANO_OF_MAX = 4096;

export function usdToNano(usd: number): bigint {
  const known = nanoOf.get(usd);
  if (known !== undefined) return known;
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`not a price: ${usd}`);
  // go through a fixed 9-decimal string so that 0.15 becomes exactly 150000000, not 149999999.99...
  const [whole, frac = ''] = usd.toFixed(9).split('.');
  const nano = BigInt(whole!) * NANO_PER_USD + BigInt(frac.padEnd(9, '0'));
  if (nanoOf.size >= NANO_OF_MAX) nanoOf.clear();
  nanoOf.set(usd, nano);
  return nano;
}

export function nanoToUsd(nano: bigint): number {
  return Number(nano) / 1e9;
}

/** nano-USD as a decimal USD string with 9 places, exact (for APIs and CSV). */
export function formatNanoUsd(nano: bigint): string {
  const neg = nano < 0n;
  const abs = neg ? -nano : nano;
  const whole = abs / NANO_PER_USD;
  const frac = (abs % NANO_PER_USD).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

const MTOK = 1_000_000n;
function perTokens(pricePerMTokNano: bigint, tokens: number): bigint {
  return (pricePerMTokNano * BigInt(tokens) + MTOK / 2n) / MTOK;
}

export type TokenCounts = { inputTokens: number; outputTokens: number; cachedInputTokens?: number; inputImages?: number };

/**
 * The exact cost of a call in nano-USD: tokens at their per-million rates (cached input tokens at the cached rate
 * when one is set), plus perRequest, plus inputImages × perImage. billing's usage-sql.ts LIST_COST is this rule in SQL.
 */
export function costNanoUsd(price: PriceConfig | null | undefined, usage: TokenCounts): bigint {
  if (!price) return 0n;
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedRate = price.cachedInputPerMTok ?? price.inputPerMTok;
  return (
    perTokens(usdToNano(price.inputPerMTok), usage.inputTokens - cached) +
    perTokens(usdToNano(cachedRate), cached) +
    perTokens(usdToNano(price.outputPerMTok), usage.outputTokens) +
    (price.perRequest ? usdToNano(price.perRequest) : 0n) +
    (price.perImage && usage.inputImages ? usdToNano(price.perImage) * BigInt(usage.inputImages) : 0n)
  );
}
