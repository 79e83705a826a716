import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of this ingress (a registry of its own, so two apps in one process never clash). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gw_ingress_requests_total',
    help: 'HTTP requests by route and status (499 = the client went away)',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'gw_ingress_request_duration_seconds',
    help: 'HTTP request duration, whole response (streams: until the last byte)',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly overhead = new Histogram({
    name: 'gw_ingress_overhead_seconds',
    help: 'time spent in the gateway per chat request, upstream attempts excluded (the x-gateway-overhead-ms header)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'gw_ingress_in_flight_requests', help: 'HTTP requests being served', registers: [this.registry] });
  readonly failOpen = new Counter({
    name: 'gw_ingress_fail_open_total',
    help: 'side calls that failed and were skipped (the request went on without them)',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: 'gw_ingress_cache_total',
    help: 'chat requests by cache status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly cacheStores = new Counter({
    name: 'gw_ingress_cache_stores_total',
    help: 'exact-cache stores after a miss: stored, or too_large (over CACHE_MAX_VALUE_BYTES); failures are fail_open',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly admissions = new Counter({
    name: 'gw_ingress_admissions_total',
    help: 'requests admitted against limits or budgets: own (one Redis script on the path) or ahead (an admission taken ahead, ADR 0019)',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gw_ingress_' });
  }
}
