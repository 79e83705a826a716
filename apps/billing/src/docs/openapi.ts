/**
 * The OpenAPI 3.1 description of the billing service's HTTP API, written by hand (no decorators to keep in step):
 * docs.spec.ts checks that its paths and methods are exactly the routes the controllers declare.
 */
type Schema = Record<string, unknown>;

const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const nullable = (s: Schema): Schema => ({ anyOf: [s, { type: 'null' }] });
const usd = (description: string): Schema => ({ type: 'string', pattern: '^-?\\d+\\.\\d{9}$', description: `${description} (USD, exact, 9 decimals)` });
const int = (description?: string): Schema => ({ type: 'integer', ...(description ? { description } : {}) });
const q = (name: string, description: string, schema: Schema = str(), required = false) => ({ name, in: 'query', required, description, schema });

const from = q('from', 'start (inclusive): 2026-11-01 (UTC midnight) or an ISO date-time with a zone; default: 30 days before `to`');
const to = q('to', 'end (exclusive), same formats; default: now');
const teamId = q('teamId', 'only this team');
const keyId = q('keyId', 'only this key');

const errorBody: Schema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { message: str(), type: str(), param: nullable(str()), code: nullable(str()) },
      required: ['message', 'type', 'param', 'code'],
    },
  },
};
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      {
        description: { 400: 'bad parameter (named in param)', 401: 'no or unknown key', 403: 'the key lacks the role', 404: 'not found', 409: 'overlapping validity' }[c] ?? 'error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
const ok = (schema: Schema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const sums: Record<string, Schema> = {
  requests: int(),
  inputTokens: int(),
  outputTokens: int(),
  cachedRequests: int('cache hits'),
  costUsd: usd('cost'),
  costNanoUsd: str('cost in nano-USD (integer as a string)'),
  savingUsd: usd('what the cache hits would have cost'),
};

const price: Schema = {
  type: 'object',
  properties: {
    id: str(),
    providerId: str(),
    model: str(),
    inputPerMTok: usd('per million input tokens'),
    outputPerMTok: usd('per million output tokens'),
    cachedInputPerMTok: nullable(usd('per million cached input tokens; null = the input price')),
    perRequest: usd('per request'),
    perImage: usd('per image'),
    validFrom: str('ISO date-time (inclusive)'),
    validTo: nullable(str('ISO date-time (exclusive); null = open')),
    source: { enum: ['config', 'admin'] },
  },
};
const usdIn = { anyOf: [{ type: 'string', pattern: '^\\d{1,12}(\\.\\d{1,9})?$' }, { type: 'number', minimum: 0 }] };

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'AI gateway: billing (finance API and prices)',
    version: '1',
    description:
      'Finance reads with the master key or a `finance` / `admin` key; prices are written with the master key or an `admin` key. Money is exact: USD strings with 9 decimals, computed from integer nano-USD.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    schemas: { Error: errorBody, Price: price },
  },
  security: [{ bearer: [] }, { apiKey: [] }],
  paths: {
    '/billing/v1/spend': {
      get: {
        summary: 'Spend grouped by team, key, model, provider, day or tag',
        parameters: [
          q('groupBy', 'grouping (tag: one group per key=value pair; a record with two tags counts in both)', { enum: ['team', 'key', 'model', 'provider', 'day', 'tag'], default: 'team' }),
          from,
          to,
          teamId,
          keyId,
          q('model', 'only this model (the upstream one, else the requested one)'),
          q('provider', 'only this provider id'),
          q('tag', 'only records with this tag: key=value, or key (any value)'),
        ],
        responses: {
          '200': ok({ type: 'object', properties: { data: { type: 'array', items: { type: 'object', properties: { group: nullable(str()), ...sums } } } } }),
          ...errors(400, 401, 403),
        },
      },
    },
    '/billing/v1/usage': {
      get: {
        summary: 'Usage records, newest first, keyset-paginated',
        parameters: [from, to, teamId, keyId, q('limit', '1-1000', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }), q('cursor', 'nextCursor of the previous page')],
        responses: {
          '200': ok({ type: 'object', properties: { data: { type: 'array', items: { type: 'object' } }, hasMore: { type: 'boolean' }, nextCursor: nullable(str()) } }),
          ...errors(400, 401, 403),
        },
      },
    },
    '/billing/v1/export': {
      get: {
        summary: 'CSV export, one line per request, oldest first, streamed',
        parameters: [from, to, teamId, keyId, q('format', 'csv', { enum: ['csv'], default: 'csv' })],
        responses: { '200': { description: 'text/csv attachment', content: { 'text/csv': { schema: str() } } }, ...errors(400, 401, 403) },
      },
    },
    '/billing/v1/budgets': {
      get: {
        summary: 'Every team and key budget with spent, reserved and remaining in its current period',
        responses: { '200': ok({ type: 'object', properties: { data: { type: 'array', items: { type: 'object' } } } }), ...errors(401, 403) },
      },
    },
    '/billing/v1/chargeback': {
      get: {
        summary: "A month's charge per team, with a line per provider + model and the ledger's figure beside it",
        parameters: [q('month', 'YYYY-MM (UTC)', { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }, true)],
        responses: {
          '200': ok({
            type: 'object',
            properties: {
              month: str(),
              from: str(),
              to: str(),
              totalCostUsd: usd('all teams'),
              teams: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    teamId: nullable(str()),
                    teamName: nullable(str()),
                    ...sums,
                    ledgerCostUsd: usd('the same charge read from the ledger entries'),
                    lines: { type: 'array', items: { type: 'object', properties: { providerId: nullable(str()), model: nullable(str()), ...sums } } },
                  },
                },
              },
            },
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    '/admin/v1/prices': {
      get: {
        summary: 'Prices, with their validity',
        parameters: [q('providerId', 'only this provider'), q('model', 'only this model'), q('at', 'only prices in force at this ISO date-time')],
        responses: { '200': ok({ type: 'object', properties: { data: { type: 'array', items: ref('Price') } } }), ...errors(400, 401, 403) },
      },
      post: {
        summary: 'Add a price; an open price in force at validFrom is closed there',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['providerId', 'model'],
                properties: {
                  providerId: str(),
                  model: str(),
                  inputPerMTok: usdIn,
                  outputPerMTok: usdIn,
                  cachedInputPerMTok: nullable(usdIn),
                  perRequest: usdIn,
                  perImage: usdIn,
                  validFrom: str('ISO date-time; default now'),
                  validTo: nullable(str('ISO date-time')),
                },
              },
            },
          },
        },
        responses: { '201': ok(ref('Price'), 'created'), ...errors(400, 401, 403, 409) },
      },
    },
    '/admin/v1/prices/{id}': {
      patch: {
        summary: "Close a price's validity (only validTo can change)",
        parameters: [{ name: 'id', in: 'path', required: true, schema: str() }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['validTo'], properties: { validTo: str('ISO date-time') } } } },
        },
        responses: { '200': ok(ref('Price')), ...errors(400, 401, 403, 404, 409) },
      },
    },
  },
} as const;

export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Billing API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .2rem}
h2{font-size:1.05rem;margin-top:1.6rem}li{margin:.2rem 0}</style></head>
<body><h1>Billing API</h1><p>${OPENAPI.info.description}</p><p>Machine-readable: <a href="/billing/docs/openapi.json">/billing/docs/openapi.json</a> (OpenAPI 3.1).</p>
${Object.entries(OPENAPI.paths)
  .map(([path, ops]) =>
    Object.entries(ops as Record<string, { summary: string; parameters?: Array<{ name: string; description: string }> }>)
      .map(
        ([method, op]) =>
          `<h2><code>${method.toUpperCase()} ${path}</code></h2><p>${op.summary}</p>${
            op.parameters?.length ? `<ul>${op.parameters.map((p) => `<li><code>${p.name}</code>: ${p.description ?? ''}</li>`).join('')}</ul>` : ''
          }`,
      )
      .join(''),
  )
  .join('\n')}
</body></html>`;
