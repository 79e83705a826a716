import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { GatewayError, type ErrorCode } from '@gw/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { anthropicError } from '../messages/anthropic-error.js';
import { openAIError, toGatewayError } from './openai-error.js';

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'INVALID_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'RATE_LIMITED',
};

/**
 * Every error that leaves the ingress, in the OpenAI shape. Nest's own HttpExceptions (an unknown route is a
 * NotFoundException) keep their status; a Fastify body error is mapped by its code; anything else is a 500
 * whose details go to the log, never to the client.
 */
@Catch()
export class OpenAIErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');
  constructor(private readonly maxBodyBytes: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    let err: GatewayError;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 413 || status === 415) {
        this.send(reply, req, toGatewayError({ statusCode: status }, this.maxBodyBytes));
        return;
      }
      const code = BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_REQUEST');
      const message = status === 404 ? `unknown route: ${req.method} ${req.url.split('?')[0] ?? ''}` : exception.message;
      err = new GatewayError(code, message, { status });
    } else {
      err = toGatewayError(exception, this.maxBodyBytes);
      if (err.code === 'INTERNAL' && !(exception instanceof GatewayError)) {
        this.logger.error(`${req.method} ${req.url}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`);
      }
    }
    this.send(reply, req, err);
  }

  /** OpenAI's shape everywhere, except on /v1/messages (Anthropic's, also for body errors raised before the handler). */
  private send(reply: FastifyReply, req: FastifyRequest, err: GatewayError): void {
    const { status, body } = req.url.startsWith('/v1/messages') ? anthropicError(err) : openAIError(err);
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    void reply.code(status).header('content-type', 'application/json').send(JSON.stringify(body));
  }
}
