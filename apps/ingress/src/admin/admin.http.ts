import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.js';
import { requireJsonBody } from '../http/json-body.js';
import { AdminService, type KeyJson, type OrgJson, type TeamJson } from './admin.service.js';
import {
  KeyCreate,
  KeyPatch,
  OrgCreate,
  OrgPatch,
  parseBody,
  TeamCreate,
  TeamPatch,
} from './admin.schemas.js';
import { DOCS_HTML, openApiSpec } from './openapi.js';

type List<T> = { object: 'list'; data: T[] };

/** /admin/v1: Bearer GATEWAY_MASTER_KEY or a key with the admin role. One line per route. Docs at /admin/docs. */
@Controller('/admin')
export class AdminHttp {
  constructor(
    private readonly admin: AdminService,
    private readonly auth: AuthService,
  ) {}

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  docs(): string {
    return DOCS_HTML;
  }

  @Get('docs/openapi.json')
  spec(): unknown {
    return openApiSpec();
  }

  @Post('v1/orgs')
  @HttpCode(201)
  async createOrg(@Req() req: FastifyRequest, @Body() body: unknown): Promise<OrgJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.createOrg(parseBody(OrgCreate, requireJsonBody(body).value));
  }

  @Get('v1/orgs')
  async listOrgs(@Req() req: FastifyRequest): Promise<List<OrgJson>> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.listOrgs();
  }

  @Get('v1/orgs/:id')
  async getOrg(@Req() req: FastifyRequest, @Param('id') id: string): Promise<OrgJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.getOrg(id);
  }

  @Patch('v1/orgs/:id')
  async updateOrg(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<OrgJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.updateOrg(id, parseBody(OrgPatch, requireJsonBody(body).value));
  }

  @Post('v1/teams')
  @HttpCode(201)
  async createTeam(@Req() req: FastifyRequest, @Body() body: unknown): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.createTeam(parseBody(TeamCreate, requireJsonBody(body).value));
  }

  @Get('v1/teams')
  async listTeams(
    @Req() req: FastifyRequest,
    @Query('orgId') orgId: string | undefined,
  ): Promise<List<TeamJson>> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.listTeams(orgId || undefined);
  }

  @Get('v1/teams/:id')
  async getTeam(@Req() req: FastifyRequest, @Param('id') id: string): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.getTeam(id);
  }

  @Patch('v1/teams/:id')
  async updateTeam(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.updateTeam(id, parseBody(TeamPatch, requireJsonBody(body).value));
  }

  @Post('v1/keys')
  @HttpCode(201)
  async createKey(@Req() req: FastifyRequest, @Body() body: unknown): Promise<KeyJson & { key: string }> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.createKey(parseBody(KeyCreate, requireJsonBody(body).value));
  }

  @Get('v1/keys')
  async listKeys(
    @Req() req: FastifyRequest,
    @Query('teamId') teamId: string | undefined,
  ): Promise<List<KeyJson>> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.listKeys(teamId || undefined);
  }

  @Get('v1/keys/:id')
  async getKey(@Req() req: FastifyRequest, @Param('id') id: string): Promise<KeyJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.getKey(id);
  }

  @Patch('v1/keys/:id')
  async updateKey(
    @Req() req: FastifyRequest,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<KeyJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.updateKey(id, parseBody(KeyPatch, requireJsonBody(body).value));
  }

  @Delete('v1/keys/:id')
  async revokeKey(@Req() req: FastifyRequest, @Param('id') id: string): Promise<KeyJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.revokeKey(id);
  }
}
