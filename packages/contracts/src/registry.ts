import { z } from 'zod';
import {
  CacheLookupRequest,
  CacheLookupResult,
  CacheStoreEvent,
  CancelEvent,
  IdentityChangedEvent,
  CredentialsChangedEvent,
  ProviderCredentialsRequest,
  ProviderCredentialsResult,
  ConfigReloadEvent,
  ModelsListRequest,
  ModelsListResult,
  ModerationCheckRequest,
  ModerationCheckResult,
  PingResult,
  ReconcileRequest,
  ReconcileResult,
  RollupDaysRequest,
  RollupDaysResult,
  RollupRequest,
  RollupResult,
  TargetOutcomeBatch,
} from './control.js';
import { UsageEvent } from './chat.js';
import { BudgetAlertEvent } from './alerts.js';

/** The services: each is a NATS queue group of the same name. */
export const SERVICES = ['ingress', 'router', 'executor', 'cache', 'billing', 'moderation', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Every name that crosses a process boundary. Subjects: `<domain>.<rpc|evt>.<name>.v<major>`.
 * No subject string appears anywhere else in the code base.
 *
 * kinds:
 *  - `stream`: the hot path (thin typed layer over @nats-io/transport-node): raw body + meta headers in,
 *     frames (start / chunk / response / end / error) out to the caller's inbox.
 *  - `rpc`:   request/reply with zod schemas on both sides.
 *  - `event`: fire and forget; `broadcast: true` reaches every replica (no queue group).
 *  - `durable`: a JetStream subject; `stream` names the JetStream stream that stores it.
 * transport: `hot` = our layer (deadlines, cancellation, typed errors); `nest` = @nestjs/microservices.
 */
export const contracts = {
  routingChat: {
    kind: 'stream',
    transport: 'hot',
    subject: 'routing.rpc.chat.v1',
    service: 'router',
  },
  executorChat: {
    kind: 'stream',
    transport: 'hot',
    subject: 'executor.rpc.chat.v1',
    service: 'executor',
  },
  /** POST /v1/embeddings: same framing as chat (raw OpenAI embeddings body + meta headers in, one `response` or `error` frame out) */
  routingEmbeddings: {
    kind: 'stream',
    transport: 'hot',
    subject: 'routing.rpc.embeddings.v1',
    service: 'router',
  },
  executorEmbeddings: {
    kind: 'stream',
    transport: 'hot',
    subject: 'executor.rpc.embeddings.v1',
    service: 'executor',
  },
  executorCancel: {
    kind: 'event',
    transport: 'hot',
    subject: 'executor.evt.cancel.v1',
    service: 'executor',
    broadcast: true,
    schema: CancelEvent,
  },
  routingOutcomes: {
    kind: 'event',
    transport: 'hot',
    subject: 'routing.evt.target-outcomes.v1',
    service: 'router',
    broadcast: true,
    schema: TargetOutcomeBatch,
  },
  routingConfigReload: {
    kind: 'event',
    transport: 'hot',
    subject: 'routing.evt.config-reload.v1',
    service: 'router',
    broadcast: true,
    schema: ConfigReloadEvent,
  },
  moderationCheckInput: {
    kind: 'rpc',
    transport: 'hot',
    subject: 'moderation.rpc.check-input.v1',
    service: 'moderation',
    request: ModerationCheckRequest,
    response: ModerationCheckResult,
  },
  cacheLookup: {
    kind: 'rpc',
    transport: 'hot',
    subject: 'cache.rpc.lookup.v1',
    service: 'cache',
    request: CacheLookupRequest,
    response: CacheLookupResult,
  },
  cacheStore: {
    kind: 'event',
    transport: 'hot',
    subject: 'cache.evt.store.v1',
    service: 'cache',
    broadcast: false,
    schema: CacheStoreEvent,
  },
  identityChanged: {
    kind: 'event',
    transport: 'hot',
    subject: 'identity.evt.changed.v1',
    service: 'ingress',
    broadcast: true,
    schema: IdentityChangedEvent,
  },
  identityProviderCredentials: {
    kind: 'rpc',
    transport: 'hot',
    subject: 'identity.rpc.provider-credentials.v1',
    service: 'ingress',
    request: ProviderCredentialsRequest,
    response: ProviderCredentialsResult,
  },
  executorCredentialsChanged: {
    kind: 'event',
    transport: 'hot',
    subject: 'executor.evt.credentials-changed.v1',
    service: 'executor',
    broadcast: true,
    schema: CredentialsChangedEvent,
  },
  routingListModels: {
    kind: 'rpc',
    transport: 'nest',
    subject: 'routing.rpc.list-models.v1',
    service: 'router',
    request: ModelsListRequest,
    response: ModelsListResult,
  },
  billingRollupHour: {
    kind: 'rpc',
    transport: 'nest',
    subject: 'billing.rpc.rollup-hour.v1',
    service: 'billing',
    request: RollupRequest,
    response: RollupResult,
  },
  billingRollupDays: {
    kind: 'rpc',
    transport: 'nest',
    subject: 'billing.rpc.rollup-days.v1',
    service: 'billing',
    request: RollupDaysRequest,
    response: RollupDaysResult,
  },
  billingReconcile: {
    kind: 'rpc',
    transport: 'nest',
    subject: 'billing.rpc.reconcile.v1',
    service: 'billing',
    request: ReconcileRequest,
    response: ReconcileResult,
  },
  billingUsage: {
    kind: 'durable',
    subject: 'billing.evt.usage.v1',
    stream: 'USAGE',
    durableName: 'billing-usage',
    service: 'billing',
    schema: UsageEvent,
  },
  /** budget thresholds crossed (billing publishes, message id = budgetAlertId); the worker POSTs them to the webhook */
  budgetAlerts: {
    kind: 'durable',
    subject: 'worker.evt.budget-alert.v1',
    stream: 'ALERTS',
    durableName: 'worker-budget-alerts',
    service: 'worker',
    schema: BudgetAlertEvent,
  },
  ...pings(),
} as const;

function pings() {
  return {
    routerPing: ping('router'),
    executorPing: ping('executor'),
    cachePing: ping('cache'),
    billingPing: ping('billing'),
    moderationPing: ping('moderation'),
    workerPing: ping('worker'),
  } as const;
}
function ping<S extends ServiceName>(service: S) {
  return {
    kind: 'rpc',
    transport: 'nest',
    subject: `${service}.rpc.ping.v1`,
    service,
    request: z.object({}),
    response: PingResult,
  } as const;
}

export type Contracts = typeof contracts;
export type ContractName = keyof Contracts;
export type Contract = Contracts[ContractName];
export type RpcContract = Extract<Contract, { kind: 'rpc' }>;
export type EventContract = Extract<Contract, { kind: 'event' }>;
export type StreamContract = Extract<Contract, { kind: 'stream' }>;
export type DurableContract = Extract<Contract, { kind: 'durable' }>;

/** The contracts a service must handle (the boot check compares handlers against this). */
export function contractsServedBy(service: ServiceName): ContractName[] {
  return (Object.keys(contracts) as ContractName[]).filter((n) => contracts[n].service === service);
}

/** Frame types of a `stream` contract reply. */
export const FRAME_HEADER = 'gw-frame';
export const FRAMES = ['start', 'chunk', 'response', 'end', 'error'] as const;
export type FrameType = (typeof FRAMES)[number];

/** Header names of the hot path. */
export const HEADERS = {
  requestId: 'gw-request-id',
  /** the requested model, so the router plans without parsing the body */
  model: 'gw-model',
  traceparent: 'traceparent',
  meta: 'gw-meta',
  plan: 'gw-plan',
  deadline: 'gw-deadline',
  result: 'gw-result',
  /** the client's x-gateway-route-strategy (router: overrides the model's strategy for this request) */
  routeStrategy: 'gw-route-strategy',
  /** the client's x-gateway-region (router: only targets of this region) */
  region: 'gw-region',
  /** on an `error` frame: the routing story (as x-gateway-route) of a request that failed */
  route: 'gw-route',
  /** on an `error` frame: the executor already published the usage record of this request */
  usageRecorded: 'gw-usage-recorded',
} as const;
