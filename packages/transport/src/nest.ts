import 'reflect-metadata';
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  SetMetadata,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy, type NatsOptions } from '@nestjs/microservices';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  contracts,
  contractsServedBy,
  GatewayError,
  type ContractName,
  type RpcContract,
  type ServiceName,
} from '@gw/contracts';
import { firstValueFrom, timeout } from 'rxjs';
import type { z } from 'zod';
import { HotClient } from './hot-client.js';
import { HotServer } from './hot-server.js';
import { DurablePublisher } from './jetstream.js';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

function assertUnreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
export const NATS_OPTIONS = Symbol('NATS_OPTIONS');
export const HANDLES_CONTRACT = 'gw:handles-contract';
const NEST_PATTERN_METADATA = 'microservices:pattern';

export type NatsModuleOptions = { service: ServiceName; url: string };

/** Marks a method as the handler of a contract; the boot check counts these. */
export const Handles = (name: ContractName): MethodDecorator => SetMetadata(HANDLES_CONTRACT, name);

export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: 5_000,
  });
}

/** Options for Nest's own NATS transport (control plane), queue group = the service. */
export function nestNatsOptions(opts: NatsModuleOptions): NatsOptions {
  return {
    transport: Transport.NATS,
    options: { servers: [opts.url], queue: opts.service, name: `${opts.service}-nest` },
  };
}

/**
 * The control-plane client: @nestjs/microservices underneath, with a deadline on every call and the reply
 * validated against the contract's schema.
 */
@Injectable()
export class ControlClient implements OnApplicationShutdown {
  private readonly proxy: ClientProxy;
  constructor(@Inject(NATS_OPTIONS) opts: NatsModuleOptions) {
    this.proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: [opts.url], name: `${opts.service}-control-client` },
    });
  }

  async send<C extends RpcContract>(contract: C, input: z.input<C['request']>, timeoutMs = 5_000): Promise<z.infer<C['response']>> {
    let raw: unknown;
    try {
      raw = await firstValueFrom(this.proxy.send<unknown>(contract.subject, input).pipe(timeout({ first: timeoutMs })));
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError')
        throw new GatewayError('SERVICE_UNAVAILABLE', `${contract.service} did not answer within ${timeoutMs} ms`);
      if (err instanceof Error && /no responders|no subscribers/i.test(err.message))
        throw new GatewayError('SERVICE_UNAVAILABLE', `${contract.service} is not available`);
      throw new GatewayError('INTERNAL', `${contract.subject} failed`);
    }
    const parsed = contract.response.safeParse(raw);
    if (!parsed.success) throw new GatewayError('INTERNAL', `${contract.subject}: malformed reply`);
    return parsed.data as z.infer<C['response']>;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.proxy.close();
  }
}

/**
 * Finds every @Handles method and every @MessagePattern, and fails the boot when a contract the service serves
 * has none, or more than one (conventions rule 9).
 */
@Injectable()
export class ContractBootCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('ContractBootCheck');
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(NATS_OPTIONS) private readonly opts: NatsModuleOptions,
    private readonly server: HotServer,
  ) {}

  private *instances(): Generator<{ instance: object; proto: object }> {
    const seen = new Set<object>();
    for (const w of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = w.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      yield { instance, proto: Object.getPrototypeOf(instance) as object };
    }
  }

  /** Every @Handles method: contract name, instance, method name. */
  handlers(): Array<{ name: ContractName; instance: object; method: string }> {
    const out: Array<{ name: ContractName; instance: object; method: string }> = [];
    for (const { instance, proto } of this.instances()) {
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = Reflect.getMetadata(HANDLES_CONTRACT, fn) as ContractName | undefined;
        if (name) out.push({ name, instance, method });
      }
    }
    return out;
  }

  handlerCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
    for (const { proto } of this.instances()) {
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const name = Reflect.getMetadata(HANDLES_CONTRACT, fn) as ContractName | undefined;
        if (name) bump(name);
        const patterns = Reflect.getMetadata(NEST_PATTERN_METADATA, fn) as unknown[] | undefined;
        for (const p of patterns ?? []) {
          const hit = (Object.keys(contracts) as ContractName[]).find((n) => contracts[n].subject === p);
          bump(hit ?? `unknown:${String(p)}`);
        }
      }
    }
    return counts;
  }

  /** Subscribes every @Handles method of a `hot` contract on the HotServer. */
  private registerHotHandlers(): void {
    for (const { name, instance, method } of this.handlers()) {
      const contract = contracts[name];
      if (contract.kind === 'durable' || contract.transport !== 'hot') continue;
      const bound: unknown = (instance as Record<string, (...args: never[]) => unknown>)[method]!.bind(instance);
      const fn = bound as (...args: never[]) => unknown;
      switch (contract.kind) {
        case 'stream':
          this.server.serveStream(contract, fn as never);
          break;
        case 'rpc':
          this.server.serveRpc(contract, fn as never);
          break;
        case 'event':
          this.server.serveEvent(contract, fn as never);
          break;
        default:
          assertUnreachable(contract);
      }
    }
  }

  onApplicationBootstrap(): void {
    const counts = this.handlerCounts();
    const problems: string[] = [];
    for (const name of contractsServedBy(this.opts.service)) {
      const n = counts.get(name) ?? 0;
      if (n !== 1) problems.push(`${name} (${contracts[name].subject}): ${n} handlers`);
    }
    for (const k of counts.keys()) if (k.startsWith('unknown:')) problems.push(`${k}: not in the contract registry`);
    if (problems.length) {
      throw new Error(`${this.opts.service}: contract handlers are wrong:\n  ${problems.join('\n  ')}`);
    }
    this.registerHotHandlers();
    this.logger.log(`${this.opts.service}: ${contractsServedBy(this.opts.service).length} contracts, one handler each`);
  }
}

@Injectable()
export class NatsLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly server: HotServer,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
    await this.nc.drain().catch(() => undefined);
  }
}

@Global()
@Module({})
export class NatsModule {
  static forRoot(opts: NatsModuleOptions): DynamicModule {
    return {
      module: NatsModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: NATS_OPTIONS, useValue: opts },
        { provide: NATS_CONNECTION, useFactory: () => connectNats(opts.url, opts.service) },
        { provide: HotClient, useFactory: (nc: NatsConnection) => new HotClient(nc), inject: [NATS_CONNECTION] },
        { provide: HotServer, useFactory: (nc: NatsConnection) => new HotServer(nc), inject: [NATS_CONNECTION] },
        { provide: DurablePublisher, useFactory: (nc: NatsConnection) => new DurablePublisher(nc), inject: [NATS_CONNECTION] },
        ControlClient,
        ContractBootCheck,
        NatsLifecycle,
      ],
      exports: [NATS_CONNECTION, NATS_OPTIONS, HotClient, HotServer, DurablePublisher, ControlClient],
    };
  }
}
