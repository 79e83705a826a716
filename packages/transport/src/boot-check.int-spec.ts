import 'reflect-metadata';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { contracts } from '@gw/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { Handles, NatsModule } from './nest.js';

/** Conventions rule 9: a service fails at boot when a contract it serves has no handler, or two. */
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

@Injectable()
class WorkerPing {
  @MessagePattern(contracts.workerPing.subject)
  ping() {
    return { service: 'worker', at: Date.now() };
  }
}
/** the worker's other contract (a durable one): its handler only has to exist */
@Injectable()
class WorkerAlerts {
  @Handles('budgetAlerts')
  deliver() {
    return undefined;
  }
}
@Injectable()
class SecondWorkerPing {
  @Handles('workerPing')
  ping() {
    return { service: 'worker', at: Date.now() };
  }
}
@Injectable()
class StrayHandler {
  @MessagePattern('not.in.the.registry.v1')
  stray() {
    return null;
  }
}

function moduleWith(providers: Array<new () => object>): DynamicModule {
  @Module({})
  class M {}
  return { module: M, imports: [NatsModule.forRoot({ service: 'worker', url: NATS_URL })], providers };
}

describe('the contract boot check', () => {
  let close: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await close?.();
    close = null;
  });
  const boot = async (providers: Array<new () => object>) => {
    const app = await NestFactory.createApplicationContext(moduleWith(providers), { logger: false, abortOnError: false });
    close = () => app.close();
    return app;
  };

  it('boots when every contract the service serves has exactly one handler', async () => {
    await expect(boot([WorkerPing, WorkerAlerts])).resolves.toBeTruthy();
  });

  it('refuses to boot when a contract has no handler, naming it', async () => {
    await expect(boot([WorkerAlerts])).rejects.toThrow(/workerPing \(worker\.rpc\.ping\.v1\): 0 handlers/);
  });

  it('refuses to boot when a contract has two handlers', async () => {
    await expect(boot([WorkerPing, SecondWorkerPing, WorkerAlerts])).rejects.toThrow(/workerPing .*: 2 handlers/);
  });

  it('refuses a handler of a subject that is not in the registry', async () => {
    await expect(boot([WorkerPing, WorkerAlerts, StrayHandler])).rejects.toThrow(/unknown:not\.in\.the\.registry\.v1: not in the contract registry/);
  });
});
