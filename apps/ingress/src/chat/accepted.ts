import type { FrameStream } from '@gw/transport';
import type { Identity } from '../auth/identity.js';

export type CacheStatus = 'hit' | 'miss' | 'bypass';

/** An accepted request (authenticated and valid): from here on it is answered or failed, and billed once. */
export type Accepted = {
  requestId: string;
  t0: number;
  receivedAt: number;
  identity: Identity;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  endUser: string | null;
  tags: Record<string, string>;
  cacheStatus: CacheStatus;
  /** the request's input images (countInputImages on the internal request; 0 for embeddings): on every usage event */
  inputImages: number;
  /** the id its holds are under in Redis (its request id, or a prefetched admission's, ADR 0019); null = none */
  admissionId: string | null;
  /** the client closed the connection before the answer was complete */
  gone: boolean;
  /** the routing story of a request that failed upstream (x-gateway-route on the error) */
  route: string | null;
  /** the open call to the router while one is in flight */
  frames: FrameStream | null;
};
