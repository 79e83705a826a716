import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export { PrismaClient };
export type * from '../generated/prisma/client.js';
export { Prisma } from '../generated/prisma/client.js';

/** A Prisma client on the pg driver adapter (no query engine binary needed). */
export function createPrismaClient(connectionString: string, poolSize = 10): PrismaClient {
  const adapter = new PrismaPg({ connectionString, max: poolSize });
  return new PrismaClient({ adapter });
}
