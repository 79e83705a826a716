import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ConfigError, parseConfigText } from '@gw/config';
import { contracts, GatewayError } from '@gw/contracts';
import { HotClient } from '@gw/transport';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service.js';
import { requireJsonBody } from '../http/json-body.js';

const ConfigPush = z.strictObject({ yaml: z.string().min(1).optional() });

/**
 * An environment in which every ${VAR} is set (to a value that passes as a key or a URL): the admin API checks the
 * config's shape and references; each
 * router and executor replica checks it again against its own environment (provider keys live there).
 */
const ANY_VAR: Readonly<Record<string, string>> = new Proxy(
  {},
  { get: () => 'http://set-on-the-replica.invalid' },
);

/**
 * POST /admin/v1/config: a new gateway config for every router and executor replica, without a restart.
 * `{"yaml": "..."}` pushes that config; `{}` makes every replica re-read its GATEWAY_CONFIG file. A config that
 * does not validate is refused here with every problem listed (400), and nothing changes anywhere.
 */
@Controller('/admin/v1')
export class ConfigHttp {
  constructor(
    private readonly auth: AuthService,
    private readonly hot: HotClient,
  ) {}

  @Post('config')
  @HttpCode(202)
  async push(
    @Req() req: FastifyRequest,
    @Body() body: unknown,
  ): Promise<{ object: 'config.reload'; source: 'body' | 'file'; models: number | null }> {
    const who = await this.auth.authenticateAdmin(req.headers);
    const parsed = ConfigPush.safeParse(requireJsonBody(body).value);
    if (!parsed.success) {
      throw new GatewayError(
        'INVALID_REQUEST',
        `body: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
      );
    }
    const by = who === 'master' ? 'master key' : `key ${who.keyId}`;
    const yaml = parsed.data.yaml;
    if (yaml === undefined) {
      this.hot.emit(contracts.routingConfigReload, { by });
      return { object: 'config.reload', source: 'file', models: null };
    }
    let models: number;
    try {
      models = parseConfigText(yaml, ANY_VAR).models.length;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : ['invalid config'];
      throw new GatewayError(
        'INVALID_REQUEST',
        `invalid gateway config (${problems.length} problem${problems.length > 1 ? 's' : ''}): ${problems.join('; ')}`,
        {
          param: 'yaml',
        },
      );
    }
    this.hot.emit(contracts.routingConfigReload, { yaml, by });
    return { object: 'config.reload', source: 'body', models };
  }
}
