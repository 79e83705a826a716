import { Injectable, Logger } from '@nestjs/common';
import { formatNanoUsd, GatewayError, type GatewayConfig } from '@gw/contracts';
import { ClosePriceBody, configPrices, CreatePriceBody, ListPricesQuery, parseBody, sameAmounts } from './price-input.js';
import { PricesRepository, type PriceRow, type PricesTx } from './prices.repository.js';

export type PriceItem = {
  id: string;
  providerId: string;
  model: string;
  /** USD, exact 9-decimal strings */
  inputPerMTok: string;
  outputPerMTok: string;
  cachedInputPerMTok: string | null;
  perRequest: string;
  perImage: string;
  validFrom: string;
  validTo: string | null;
  source: 'config' | 'admin';
};

export function toPriceItem(p: PriceRow): PriceItem {
  return {
    id: p.id,
    providerId: p.providerId,
    model: p.model,
    inputPerMTok: formatNanoUsd(p.inputNanoPerMTok),
    outputPerMTok: formatNanoUsd(p.outputNanoPerMTok),
    cachedInputPerMTok: p.cachedInputNanoPerMTok === null ? null : formatNanoUsd(p.cachedInputNanoPerMTok),
    perRequest: formatNanoUsd(p.perRequestNano),
    perImage: formatNanoUsd(p.perImageNano),
    validFrom: p.validFrom.toISOString(),
    validTo: p.validTo ? p.validTo.toISOString() : null,
    source: p.source,
  };
}

const conflict = (message: string, param: string | null = null) => new GatewayError('INVALID_REQUEST', message, { status: 409, param });

/**
 * Prices with validity periods. A new price starting while an open price of the same provider + model is in force
 * closes that one at its start (a price change); any other overlap is refused (409). Only `validTo` of a price can
 * change afterwards: the usage already billed at a price keeps pointing at it.
 */
@Injectable()
export class PricesService {
  private readonly logger = new Logger('Prices');

  constructor(private readonly repo: PricesRepository) {}

  async list(query: unknown): Promise<{ data: PriceItem[] }> {
    const q = parseBody(ListPricesQuery, query, 'query');
    return { data: (await this.repo.list(q)).map(toPriceItem) };
  }

  async create(body: unknown, now = new Date()): Promise<PriceItem> {
    const b = parseBody(CreatePriceBody, body, 'price');
    const validFrom = b.validFrom ?? now;
    if (b.validTo && b.validTo <= validFrom) throw new GatewayError('INVALID_REQUEST', 'invalid price: validTo must be after validFrom', { param: 'validTo' });
    return toPriceItem(
      await this.repo.transaction(async (tx) => {
        const current = await tx.current(b.providerId, b.model, validFrom);
        if (current) {
          if (current.validTo !== null || current.validFrom.getTime() === validFrom.getTime()) {
            throw conflict(`a price of ${b.providerId}/${b.model} (id ${current.id}) is already in force at ${validFrom.toISOString()}`, 'validFrom');
          }
          await tx.close(current.id, validFrom);
        }
        const next = await tx.next(b.providerId, b.model, validFrom);
        if (next && (b.validTo === null || b.validTo > next.validFrom)) {
          throw conflict(`a price of ${b.providerId}/${b.model} (id ${next.id}) starts at ${next.validFrom.toISOString()}: set validTo at or before it`, 'validTo');
        }
        return tx.insert({
          providerId: b.providerId,
          model: b.model,
          inputNanoPerMTok: b.inputPerMTok,
          outputNanoPerMTok: b.outputPerMTok,
          cachedInputNanoPerMTok: b.cachedInputPerMTok,
          perRequestNano: b.perRequest,
          perImageNano: b.perImage,
          validFrom,
          validTo: b.validTo,
          source: 'admin',
        });
      }),
    );
  }

  /** Closes (or moves the end of) a price's validity. */
  async close(id: string, body: unknown): Promise<PriceItem> {
    if (!/^\d{1,18}$/.test(id)) throw new GatewayError('NOT_FOUND', `no price ${id}`, { param: 'id' });
    const b = parseBody(ClosePriceBody, body, 'price update');
    return toPriceItem(
      await this.repo.transaction(async (tx) => {
        const p = await tx.get(id);
        if (!p) throw new GatewayError('NOT_FOUND', `no price ${id}`, { param: 'id' });
        if (b.validTo <= p.validFrom) throw new GatewayError('INVALID_REQUEST', `invalid price update: validTo must be after validFrom (${p.validFrom.toISOString()})`, { param: 'validTo' });
        const next = await tx.next(p.providerId, p.model, p.validFrom);
        if (next && b.validTo > next.validFrom) {
          throw conflict(`price ${next.id} of ${p.providerId}/${p.model} starts at ${next.validFrom.toISOString()}: validTo cannot pass it`, 'validTo');
        }
        return tx.close(id, b.validTo);
      }),
    );
  }

  /**
   * Seeds the config's prices (idempotent, run on every boot): a provider + model without a price in force gets the
   * config's from now on; a config price in force with other amounts is closed now and replaced; a price set through
   * the admin API is left alone (the admin's word wins over the file).
   */
  async seedFromConfig(config: GatewayConfig, now = new Date()): Promise<{ inserted: number; replaced: number; kept: number }> {
    const { prices, conflicts } = configPrices(config);
    for (const c of conflicts) this.logger.warn(`config price conflict: ${c}`);
    const counts = { inserted: 0, replaced: 0, kept: 0 };
    await this.repo.transaction(async (tx: PricesTx) => {
      for (const p of prices) {
        const current = await tx.current(p.providerId, p.model, now);
        if (current && (current.source === 'admin' || sameAmounts(current, p))) {
          counts.kept++;
          continue;
        }
        if (current) {
          await tx.close(current.id, now);
          counts.replaced++;
        } else counts.inserted++;
        const next = await tx.next(p.providerId, p.model, now);
        await tx.insert({ ...p, validFrom: now, validTo: next ? next.validFrom : null, source: 'config' });
      }
    });
    this.logger.log(`config prices: ${counts.inserted} new, ${counts.replaced} replaced, ${counts.kept} unchanged or set by an admin`);
    return counts;
  }
}
