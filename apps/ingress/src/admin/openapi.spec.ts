import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { CredentialsHttp } from '../credentials/credentials.http.js';
import { AdminHttp } from './admin.http.js';
import { openApiSpec } from './openapi.js';

/** Every route the admin controllers serve, read from Nest's decorator metadata: `get /admin/v1/keys/{id}`. */
function routes(controller: new (...args: never[]) => object): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const out: string[] = [];
  const proto = controller.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    if (name === 'constructor' || typeof fn !== 'function') continue;
    const path = Reflect.getMetadata(PATH_METADATA, fn) as string | undefined;
    const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
    if (path === undefined || method === undefined) continue;
    const full = `/${[base, path]
      .map((p) => p.replace(/^\/|\/$/g, ''))
      .filter(Boolean)
      .join('/')}`.replace(/:(\w+)/g, '{$1}');
    out.push(`${RequestMethod[method].toLowerCase()} ${full}`);
  }
  return out;
}

describe('the admin OpenAPI document', () => {
  const spec = openApiSpec() as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
  const served = [...routes(AdminHttp), ...routes(CredentialsHttp)].filter((r) => r.includes('/admin/v1/'));

  it('lists every admin route the controllers serve, and nothing else', () => {
    const documented = Object.entries(spec.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p}`),
    );
    expect(served.length).toBe(16);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('describes the bodies with the schemas the routes validate with (strict: no unknown fields)', () => {
    const body = spec.paths['/admin/v1/keys']?.['post']?.requestBody as {
      content: Record<string, { schema: { required: string[]; additionalProperties: boolean } }>;
    };
    const schema = body.content['application/json']?.schema;
    expect(schema?.required).toEqual(['teamId', 'name']);
    expect(schema?.additionalProperties).toBe(false);
  });
});
