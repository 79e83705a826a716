import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { formatNanoUsd } from '@gw/contracts';
import { exportHeader, exportLine } from './csv.js';
import { encodeCursor, parseExportQuery, parseSpendQuery, parseUsageQuery } from './query.js';
import { ReportsRepository, type UsageRecordRow } from './reports.repository.js';

export type SpendItem = {
  group: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedRequests: number;
  /** exact decimal USD (9 places) */
  costUsd: string;
  costNanoUsd: string;
};

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
  };
}

@Injectable()
export class ReportsService {
  constructor(private readonly repo: ReportsRepository) {}

  async spend(query: unknown): Promise<{ data: SpendItem[] }> {
    const rows = await this.repo.spend(parseSpendQuery(query));
    return {
      data: rows.map((r) => ({
        group: r.grp,
        requests: Number(r.requests),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        cachedRequests: Number(r.cached_requests),
        costUsd: formatNanoUsd(BigInt(r.cost)),
        costNanoUsd: r.cost,
      })),
    };
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
    return {
      data: rows.map((r) => {
        const budget = BigInt(r.budget);
        const spent = BigInt(r.spent);
        const reserved = 0n; // reservations are not recorded yet: the ingress does not reserve (see README)
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
