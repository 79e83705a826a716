import { z } from 'zod';
import { CredentialCreate } from '../credentials/credentials.schemas.js';
import { KeyCreate, KeyPatch, OrgCreate, OrgPatch, TeamCreate, TeamPatch } from './admin.schemas.js';

type Op = { summary: string; body?: z.ZodType; query?: string[]; status?: number };

/** Every admin route (path in OpenAPI form) → its operations. admin/openapi.spec.ts checks it against the controllers. */
const ROUTES: Record<string, Partial<Record<'get' | 'post' | 'patch' | 'delete', Op>>> = {
  '/admin/v1/orgs': {
    post: { summary: 'Create an organization', body: OrgCreate, status: 201 },
    get: { summary: 'List organizations' },
  },
  '/admin/v1/orgs/{id}': {
    get: { summary: 'Read an organization' },
    patch: { summary: 'Rename an organization', body: OrgPatch },
  },
  '/admin/v1/teams': {
    post: {
      summary: 'Create a team (budget, period, rpm, tpm, maxConcurrent, models, per-model limits)',
      body: TeamCreate,
      status: 201,
    },
    get: { summary: 'List teams', query: ['orgId'] },
  },
  '/admin/v1/teams/{id}': {
    get: { summary: 'Read a team' },
    patch: { summary: 'Update a team (null clears a limit)', body: TeamPatch },
  },
  '/admin/v1/keys': {
    post: {
      summary: 'Create a virtual key: the secret `key` (sk-gw-…) is in this answer only',
      body: KeyCreate,
      status: 201,
    },
    get: { summary: 'List keys', query: ['teamId'] },
  },
  '/admin/v1/keys/{id}': {
    get: { summary: 'Read a key (never its secret)' },
    patch: { summary: 'Update a key (null clears a limit)', body: KeyPatch },
    delete: { summary: 'Revoke a key: refused on every replica within 1 s' },
  },
  '/admin/v1/credentials': {
    post: {
      summary:
        'Store a provider credential (AES-256-GCM at rest); a new version becomes active, older ones keep working until removed',
      body: CredentialCreate,
      status: 201,
    },
    get: { summary: 'List credentials, masked (…last 4 characters)' },
  },
  '/admin/v1/credentials/{providerId}/versions/{version}': {
    delete: { summary: 'Remove one version of a credential' },
  },
};

const ERROR = {
  description: 'error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              type: { type: 'string' },
              param: { type: ['string', 'null'] },
              code: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

let cached: unknown = null;

/** The OpenAPI 3.1 document of the admin API; request bodies are the zod schemas the routes validate with. */
export function openApiSpec(): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(ROUTES)) {
    const item: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      for (const q of op.query ?? [])
        params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
      item[method] = {
        summary: op.summary,
        security: [{ bearer: [] }],
        ...(params.length ? { parameters: params } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: {
                  'application/json': {
                    schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }),
                  },
                },
              },
            }
          : {}),
        responses: {
          [String(op.status ?? 200)]: { description: 'ok' },
          '400': ERROR,
          '401': ERROR,
          '403': ERROR,
          '404': ERROR,
          '409': ERROR,
        },
      };
    }
    paths[path] = item;
  }
  cached = {
    openapi: '3.1.0',
    info: { title: 'AI gateway admin API', version: '1' },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'GATEWAY_MASTER_KEY or a key with role admin',
        },
      },
    },
    paths,
  };
  return cached;
}

/** A self-contained page (no CDN: the gateway may run without internet) that lists the operations of the spec. */
export const DOCS_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Admin API</title>
<style>body{font:14px system-ui,sans-serif;max-width:60rem;margin:2rem auto}code{background:#eee;padding:0 .3em}pre{background:#f6f6f6;padding:.5em;overflow:auto}</style>
</head><body><h1>Admin API</h1><p>Spec: <a href="/admin/docs/openapi.json"><code>/admin/docs/openapi.json</code></a> (OpenAPI 3.1). Auth: <code>Authorization: Bearer &lt;master key or admin key&gt;</code>.</p>
<div id="ops">loading…</div>
<script>
fetch('/admin/docs/openapi.json').then(r=>r.json()).then(s=>{const o=document.getElementById('ops');o.textContent='';
for(const [p,ops] of Object.entries(s.paths))for(const [m,op] of Object.entries(ops)){const h=document.createElement('h3');h.textContent=m.toUpperCase()+' '+p;o.append(h);
const d=document.createElement('p');d.textContent=op.summary;o.append(d);
if(op.requestBody){const pre=document.createElement('pre');pre.textContent=JSON.stringify(op.requestBody.content['application/json'].schema,null,2);o.append(pre);}}});
</script></body></html>`;
