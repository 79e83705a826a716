import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { describe, expect, it } from 'vitest';
import { HealthHttp } from '../health/health.http.js';
import { PricesHttp } from '../prices/prices.http.js';
import { ReportsHttp } from '../reports/reports.http.js';
import { DocsHttp } from './docs.http.js';
import { DOCS_HTML, OPENAPI } from './openapi.js';

/** The routes the controllers declare, as `METHOD /path` with OpenAPI's {param} syntax. */
function routesOf(controller: new (...args: never[]) => unknown): string[] {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '').replace(/^\/|\/$/g, '');
  const proto = controller.prototype as Record<string, unknown>;
  const out: string[] = [];
  for (const name of Object.getOwnPropertyNames(proto)) {
    const handler = proto[name];
    if (name === 'constructor' || typeof handler !== 'function') continue;
    const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
    if (method === undefined) continue;
    const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '').replace(/^\/|\/$/g, '');
    const path = `/${[base, sub].filter((p) => p !== '').join('/')}`.replace(/:([A-Za-z]+)/g, '{$1}');
    out.push(`${RequestMethod[method]} ${path}`);
  }
  return out;
}

describe('the hand-written OpenAPI description', () => {
  it('lists exactly the routes of the finance and prices controllers', () => {
    const documented = Object.entries(OPENAPI.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const declared = [...routesOf(ReportsHttp), ...routesOf(PricesHttp)];
    expect(declared.length).toBeGreaterThanOrEqual(8);
    expect([...documented].sort()).toEqual([...declared].sort());
  });

  it('leaves out only the operational routes (health, readiness, metrics, the docs themselves)', () => {
    expect(routesOf(HealthHttp).sort()).toEqual(['GET /health', 'GET /metrics', 'GET /ready']);
    expect(routesOf(DocsHttp).sort()).toEqual(['GET /billing/docs', 'GET /billing/docs/openapi.json']);
  });

  it('the page names every documented operation', () => {
    for (const path of Object.keys(OPENAPI.paths)) expect(DOCS_HTML).toContain(path);
  });
});
