import { GatewayError, usdToNano, type GatewayConfig } from '@gw/contracts';
import { z } from 'zod';

/** USD as a decimal string ("0.15", up to 9 places) or a JSON number; converted exactly to nano-USD. */
const Usd = z
  .union([z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, 'must be a non-negative USD amount with at most 9 decimals'), z.number().nonnegative().finite()])
  .transform((v) => (typeof v === 'number' ? usdToNano(v) : decimalToNano(v)));

function decimalToNano(s: string): bigint {
  const [whole, frac = ''] = s.split('.');
  return BigInt(whole!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

const Time = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const Name = z.string().min(1).max(200);

export const CreatePriceBody = z.strictObject({
  providerId: Name,
  model: Name,
  inputPerMTok: Usd.default(0n),
  outputPerMTok: Usd.default(0n),
  cachedInputPerMTok: Usd.nullable().default(null),
  perRequest: Usd.default(0n),
  perImage: Usd.default(0n),
  /** default: now */
  validFrom: Time.optional(),
  validTo: Time.nullable().default(null),
});
export type CreatePriceBody = z.infer<typeof CreatePriceBody>;

export const ClosePriceBody = z.strictObject({ validTo: Time });

export const ListPricesQuery = z.strictObject({ providerId: Name.optional(), model: Name.optional(), at: Time.optional() });
export type ListPricesQuery = z.infer<typeof ListPricesQuery>;

/** A price's amounts in nano-USD (per million tokens, per request, per image). */
export type PriceAmounts = {
  inputNanoPerMTok: bigint;
  outputNanoPerMTok: bigint;
  cachedInputNanoPerMTok: bigint | null;
  perRequestNano: bigint;
  perImageNano: bigint;
};

export type NewPrice = PriceAmounts & { providerId: string; model: string; validFrom: Date; validTo: Date | null; source: 'config' | 'admin' };

export function parseBody<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const param = first?.code === 'unrecognized_keys' ? (first.keys[0] ?? null) : first?.path.join('.') || null;
  const message = r.error.issues
    .map((i) => (i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : `${i.path.join('.') || '<body>'}: ${i.message}`))
    .join('; ');
  throw new GatewayError('INVALID_REQUEST', `invalid ${what}: ${message}`, { param });
}

/**
 * The prices the config declares, one per provider + model (targets of several model names may share an upstream
 * model: the first price wins, and a different price for the same provider + model is reported).
 */
export function configPrices(config: GatewayConfig): { prices: Array<PriceAmounts & { providerId: string; model: string }>; conflicts: string[] } {
  const byKey = new Map<string, PriceAmounts & { providerId: string; model: string }>();
  const conflicts: string[] = [];
  for (const m of config.models) {
    for (const t of m.targets) {
      if (!t.price) continue;
      const p = {
        providerId: t.provider,
        model: t.model,
        inputNanoPerMTok: usdToNano(t.price.inputPerMTok),
        outputNanoPerMTok: usdToNano(t.price.outputPerMTok),
        cachedInputNanoPerMTok: t.price.cachedInputPerMTok === undefined ? null : usdToNano(t.price.cachedInputPerMTok),
        perRequestNano: t.price.perRequest === undefined ? 0n : usdToNano(t.price.perRequest),
        perImageNano: t.price.perImage === undefined ? 0n : usdToNano(t.price.perImage),
      };
      const key = `${p.providerId}\u0000${p.model}`;
      const seen = byKey.get(key);
      if (!seen) byKey.set(key, p);
      else if (!sameAmounts(seen, p)) conflicts.push(`${p.providerId}/${p.model}: model ${m.name} declares another price; the first one is used`);
    }
  }
  return { prices: [...byKey.values()], conflicts };
}

export function sameAmounts(a: PriceAmounts, b: PriceAmounts): boolean {
  return (
    a.inputNanoPerMTok === b.inputNanoPerMTok &&
    a.outputNanoPerMTok === b.outputNanoPerMTok &&
    a.cachedInputNanoPerMTok === b.cachedInputNanoPerMTok &&
    a.perRequestNano === b.perRequestNano &&
    a.perImageNano === b.perImageNano
  );
}
