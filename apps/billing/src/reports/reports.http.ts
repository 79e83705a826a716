import { Controller, Get, Header, Query, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { FinanceAuthGuard } from '../auth/finance-auth.guard.js';
import { ReportsService, type BudgetItem, type Chargeback, type SpendItem, type UsageItem } from './reports.service.js';

@Controller('billing/v1')
@UseGuards(FinanceAuthGuard)
export class ReportsHttp {
  constructor(private readonly reports: ReportsService) {}

  @Get('spend')
  spend(@Query() query: unknown): Promise<{ data: SpendItem[] }> {
    return this.reports.spend(query);
  }

  @Get('usage')
  usage(@Query() query: unknown): Promise<{ data: UsageItem[]; hasMore: boolean; nextCursor: string | null }> {
    return this.reports.usage(query);
  }

  @Get('export')
  @Header('cache-control', 'no-store')
  export(@Query() query: unknown, @Res() reply: FastifyReply): FastifyReply {
    const { filename, stream } = this.reports.exportCsv(query);
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(stream);
  }

  @Get('chargeback')
  chargeback(@Query() query: unknown): Promise<Chargeback> {
    return this.reports.chargeback(query);
  }

  @Get('budgets')
  budgets(): Promise<{ data: BudgetItem[] }> {
    return this.reports.budgets();
  }
}
