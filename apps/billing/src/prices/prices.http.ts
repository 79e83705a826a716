import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { AdminAuthGuard } from '../auth/finance-auth.guard.js';
import { PricesService, type PriceItem } from './prices.service.js';

/** /admin/v1/prices on the billing service (port BILLING_PORT): the master key or an admin key. */
@Controller('admin/v1/prices')
@UseGuards(AdminAuthGuard)
export class PricesHttp {
  constructor(private readonly prices: PricesService) {}

  @Get()
  list(@Query() query: unknown): Promise<{ data: PriceItem[] }> {
    return this.prices.list(query);
  }

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown): Promise<PriceItem> {
    return this.prices.create(body);
  }

  @Patch(':id')
  close(@Param('id') id: string, @Body() body: unknown): Promise<PriceItem> {
    return this.prices.close(id, body);
  }
}
