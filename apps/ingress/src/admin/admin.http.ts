import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthService } from '../auth/auth.service.js';
import { requireJsonBody } from '../http/json-body.js';
import { AdminService, type KeyJson, type TeamJson } from './admin.service.js';
import { KeyCreate, KeyPatch, parseBody, TeamCreate, TeamPatch } from './admin.schemas.js';

/** /admin/v1: Bearer GATEWAY_MASTER_KEY or a key with the admin role. One line per route. */
@Controller('/admin/v1')
export class AdminHttp {
  constructor(
    private readonly admin: AdminService,
    private readonly auth: AuthService,
  ) {}

  @Post('teams')
  @HttpCode(201)
  async createTeam(@Req() req: FastifyRequest, @Body() body: unknown): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.createTeam(parseBody(TeamCreate, requireJsonBody(body).value));
  }

  @Get('teams')
  async listTeams(@Req() req: FastifyRequest): Promise<{ object: 'list'; data: TeamJson[] }> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.listTeams();
  }

  @Get('teams/:id')
  async getTeam(@Req() req: FastifyRequest, @Param('id') id: string): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.getTeam(id);
  }

  @Patch('teams/:id')
  async updateTeam(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<TeamJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.updateTeam(id, parseBody(TeamPatch, requireJsonBody(body).value));
  }

  @Post('keys')
  @HttpCode(201)
  async createKey(@Req() req: FastifyRequest, @Body() body: unknown): Promise<KeyJson & { key: string }> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.createKey(parseBody(KeyCreate, requireJsonBody(body).value));
  }

  @Get('keys')
  async listKeys(@Req() req: FastifyRequest, @Query('teamId') teamId: string | undefined): Promise<{ object: 'list'; data: KeyJson[] }> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.listKeys(teamId || undefined);
  }

  @Patch('keys/:id')
  async updateKey(@Req() req: FastifyRequest, @Param('id') id: string, @Body() body: unknown): Promise<KeyJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.updateKey(id, parseBody(KeyPatch, requireJsonBody(body).value));
  }

  @Delete('keys/:id')
  async revokeKey(@Req() req: FastifyRequest, @Param('id') id: string): Promise<KeyJson> {
    await this.auth.authenticateAdmin(req.headers);
    return this.admin.revokeKey(id);
  }
}
