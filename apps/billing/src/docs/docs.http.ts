import { Controller, Get, Header } from '@nestjs/common';
import { DOCS_HTML, OPENAPI } from './openapi.js';

/** OpenAPI of the billing HTTP API: a JSON spec and a page that lists it. Public (it holds no data). */
@Controller('billing/docs')
export class DocsHttp {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return DOCS_HTML;
  }

  @Get('openapi.json')
  spec(): typeof OPENAPI {
    return OPENAPI;
  }
}
