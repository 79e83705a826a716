import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseBody } from '../admin/admin.schemas.js';
import { AuthService } from '../auth/auth.service.js';
import { requireJsonBody } from '../http/json-body.js';
import { CredentialCreate } from './credentials.schemas.js';
import { CredentialsService, type CredentialJson } from './credentials.service.js';

/** /admin/v1/credentials: master key or an admin key. Secrets go in, only masks come out. */
@Controller('/admin/v1/credentials')
export class CredentialsHttp {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly auth: AuthService,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<CredentialJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.credentials.create(parseBody(CredentialCreate, requireJsonBody(body).value));
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<{ object: 'list'; data: CredentialJson[] }> {
    await this.auth.authenticateAdmin(req.headers);
    return this.credentials.list();
  }

  @Delete(':providerId/versions/:version')
  async remove(
    @Req() req: FastifyRequest,
    @Param('providerId') providerId: string,
    @Param('version') version: string,
  ): Promise<CredentialJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.credentials.remove(providerId, version);
  }
}
