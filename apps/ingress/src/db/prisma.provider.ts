import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { createPrismaClient, type PrismaClient } from '@gw/db';
import type { IngressEnv } from '../config/env.js';
import { INGRESS_ENV, PRISMA } from '../config/tokens.js';

export const prismaProvider: Provider = {
  provide: PRISMA,
  inject: [INGRESS_ENV],
  useFactory: (env: IngressEnv): PrismaClient => createPrismaClient(env.DATABASE_URL, 10),
};

@Injectable()
export class PrismaLifecycle implements OnApplicationShutdown {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}
  async onApplicationShutdown(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
