import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { formatNanoUsd, GatewayError } from '@gw/contracts';
import { SettlementService } from '../budgets/settlement.service.js';
import { exportHeader, exportLine } from './csv.js';
import { encodeCursor, parseChargebackQuery, parseExportQuery, parseSpendQuery, parseUsageQuery } from './query.js';
import { ReportsRepository, type AggregateRow, type UsageRecordRow } from './reports.repository.js';

export type SpendItem = {
  group: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedRequests: number;
  /** exact decimal USD (9 places) */
  costUsd: string;
  costNanoUsd: string;
  /** what cache hits saved (what they would have cost) */
  savingUsd: string;
};

export type ChargebackLine = Omit<SpendItem, 'group'> & { providerId: string | null; model: string | null };
export type ChargebackTeam = Omit<SpendItem, 'group'> & {
  teamId: string | null;
  teamName: string | null;
  /** the same charge read from the ledger (entries of the team's accounts): equal to costUsd when all is well */
  ledgerCostUsd: string;
  lines: ChargebackLine[];
};
export type Chargeback = { month: string; from: string; to: string; totalCostUsd: string; teams: ChargebackTeam[] };

export type UsageItem = {
  id: string;
  requestId: string;
  occurredAt: string;
  orgId: string | null;
  teamId: string | null;
  keyId: string | null;
  endUser: string | null;
  requestedModel: string;
  providerId: string | null;
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** input images, charged at the price's perImage */
  inputImages: number;
  costUsd: string;
  costNanoUsd: string;
  latencyMs: number;
  cacheStatus: string;
  status: string;
  errorCode: string | null;
  usageEstimated: boolean;
  stream: boolean;
  tags: Record<string, string>;
  attempts: number;
  mode: string;
  routing: unknown;
  savingUsd: string;
  priceId: string | null;
};

export type BudgetItem = {
  type: 'team' | 'key';
  id: string;
  name: string;
  teamId: string | null;
  period: string;
  periodStart: string | null;
  budgetUsd: string;
  spentUsd: string;
  reservedUsd: string;
  remainingUsd: string;
};

function toUsageItem(r: UsageRecordRow): UsageItem {
  return {
    id: r.id,
    requestId: r.request_id,
    occurredAt: r.occurred_at.toISOString(),
    orgId: r.org_id,
    teamId: r.team_id,
    keyId: r.key_id,
    endUser: r.end_user,
    requestedModel: r.requested_model,
    providerId: r.provider_id,
    model: r.model,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cachedInputTokens: r.cached_input_tokens,
    inputImages: r.input_images,
    costUsd: formatNanoUsd(BigInt(r.cost_nano_usd)),
    costNanoUsd: r.cost_nano_usd,
    latencyMs: r.latency_ms,
    cacheStatus: r.cache_status,
    status: r.status,
    errorCode: r.error_code,
    usageEstimated: r.usage_estimated,
    stream: r.stream,
    tags: r.tags,
    attempts: r.attempts,
    mode: r.mode,
    routing: r.routing,
    savingUsd: formatNanoUsd(BigInt(r.saving_nano_usd)),
    priceId: r.price_id,
  };
}

function sums(r: AggregateRow): Omit<SpendItem, 'group'> {
  return {
    requests: Number(r.requests),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cachedRequests: Number(r.cached_requests),
    costUsd: formatNanoUsd(BigInt(r.cost)),
    costNanoUsd: r.cost,
    savingUsd: formatNanoUsd(BigInt(r.saving)),
  };
}

/** Most expensive first, ties by group (nulls last). */
function byCost<T extends { costNanoUsd: string }>(key: (x: T) => string | null): (a: T, b: T) => number {
  return (a, b) => {
    const d = BigInt(b.costNanoUsd) - BigInt(a.costNanoUsd);
    if (d !== 0n) return d > 0n ? 1 : -1;
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) return 0;
    if (ka === null) return 1;
    if (kb === null) return -1;
    return ka < kb ? -1 : 1;
  };
}

@Injectable()
export class ReportsService {
  constructor(
    private readonly repo: ReportsRepository,
    private readonly settlement: SettlementService,
  ) {}

  async spend(query: unknown): Promise<{ data: SpendItem[] }> {
    const q = parseSpendQuery(query);
    const rows = await this.repo.aggregate(q, q, [q.groupBy]);
    const data = rows.map((r) => ({ group: r.groups[0] ?? null, ...sums(r) }));
    if (q.groupBy === 'day') data.sort((a, b) => ((a.group ?? '') < (b.group ?? '') ? -1 : 1));
    else data.sort(byCost((x) => x.group));
    return { data };
  }

  /** A month's charge per team, with a line per provider + model, cross-checked against the ledger. */
  async chargeback(query: unknown): Promise<Chargeback> {
    const q = parseChargebackQuery(query);
    const none = { teamId: null, keyId: null, model: null, provider: null, tag: null };
    const [rows, ledger] = await Promise.all([this.repo.aggregate(q, none, ['team', 'provider', 'model']), this.repo.ledgerByTeam(q)]);
    const teams = new Map<string | null, { lines: ChargebackLine[]; saving: bigint }>();
    for (const r of rows) {
      const teamId = r.groups[0] ?? null;
      const t = teams.get(teamId) ?? { lines: [], saving: 0n };
      t.saving += BigInt(r.saving);
      t.lines.push({ providerId: r.groups[1] ?? null, model: r.groups[2] ?? null, ...sums(r) });
      teams.set(teamId, t);
    }
    const names = await this.repo.teamNames([...teams.keys()].filter((k): k is string => k !== null));
    const ledgerOf = new Map(ledger.map((l) => [l.team_id, BigInt(l.charged)]));
    let total = 0n;
    const out: ChargebackTeam[] = [...teams.entries()].map(([teamId, t]) => {
      const cost = t.lines.reduce((n, l) => n + BigInt(l.costNanoUsd), 0n);
      total += cost;
      t.lines.sort(byCost((l) => `${l.providerId ?? ''}/${l.model ?? ''}`));
      return {
        teamId,
        teamName: teamId === null ? null : (names.get(teamId) ?? null),
        requests: t.lines.reduce((n, l) => n + l.requests, 0),
        inputTokens: t.lines.reduce((n, l) => n + l.inputTokens, 0),
        outputTokens: t.lines.reduce((n, l) => n + l.outputTokens, 0),
        cachedRequests: t.lines.reduce((n, l) => n + l.cachedRequests, 0),
        costUsd: formatNanoUsd(cost),
        costNanoUsd: cost.toString(),
        savingUsd: formatNanoUsd(t.saving),
        ledgerCostUsd: formatNanoUsd(ledgerOf.get(teamId) ?? 0n),
        lines: t.lines,
      };
    });
    out.sort(byCost((t) => t.teamId));
    return { month: q.month, from: q.from.toISOString(), to: q.to.toISOString(), totalCostUsd: formatNanoUsd(total), teams: out };
  }

  async usage(query: unknown): Promise<{ data: UsageItem[]; hasMore: boolean; nextCursor: string | null }> {
    const q = parseUsageQuery(query);
    const rows = await this.repo.usagePage(q);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const hasMore = rows.length > q.limit;
    return {
      data: page.map(toUsageItem),
      hasMore,
      nextCursor: hasMore && last ? encodeCursor({ occurredAt: last.occurred_at, id: last.id }) : null,
    };
  }

  /** A CSV stream: the header, then one line per record as the cursor yields them (backpressure included). */
  exportCsv(query: unknown): { filename: string; stream: Readable } {
    const q = parseExportQuery(query);
    const rows = this.repo.exportRows(q);
    async function* lines(): AsyncGenerator<string> {
      yield exportHeader();
      for await (const r of rows) yield exportLine(r);
    }
    const day = (d: Date) => d.toISOString().slice(0, 10);
    return { filename: `usage_${day(q.from)}_${day(q.to)}.csv`, stream: Readable.from(lines(), { objectMode: false }) };
  }

  async budgets(now = new Date()): Promise<{ data: BudgetItem[] }> {
    const rows = await this.repo.budgets(now);
    // reserved: the holds of requests admitted by the ingress and not settled yet (Redis, packages/budgets)
    let held: bigint[];
    try {
      held = await Promise.all(
        rows.map(async (r) => (await this.settlement.reserved(r.kind, r.id, budgetPeriod(r.period))).reservedNanoUsd),
      );
    } catch (err) {
      throw new GatewayError('SERVICE_UNAVAILABLE', `budget reservations cannot be read (Redis): ${err instanceof Error ? err.message : String(err)}`);
    }
    return {
      data: rows.map((r, i) => {
        const budget = BigInt(r.budget);
        const spent = BigInt(r.spent);
        const reserved = held[i] ?? 0n;
        return {
          type: r.kind,
          id: r.id,
          name: r.name,
          teamId: r.team_id,
          period: r.period ?? 'total',
          periodStart: r.period_start ? r.period_start.toISOString() : null,
          budgetUsd: formatNanoUsd(budget),
          spentUsd: formatNanoUsd(spent),
          reservedUsd: formatNanoUsd(reserved),
          remainingUsd: formatNanoUsd(budget - spent - reserved),
        };
      }),
    };
  }

}

function budgetPeriod(p: string | null): 'daily' | 'monthly' | 'total' {
  return p === 'daily' || p === 'monthly' ? p : 'total';
}
