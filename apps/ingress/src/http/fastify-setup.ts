import type { FastifyInstance } from 'fastify';
import { parseJsonBody } from './json-body.js';

/**
 * One content-type parser for JSON (and `application/*+json`): the Buffer is kept (the chat body is forwarded as
 * these bytes) and parsed once. Fastify enforces the size limit while reading (413 before the body is buffered).
 */
export function registerJsonParser(fastify: FastifyInstance, maxBodyBytes: number): void {
  for (const type of ['application/json', /^application\/[\w.+-]+\+json$/]) {
    fastify.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body: Buffer | string, done) => {
      try {
        done(null, parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }
}
