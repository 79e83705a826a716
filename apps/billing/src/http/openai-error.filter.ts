import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { GatewayError, type ErrorCode } from '@gw/contracts';

export type OpenAiErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

const CODE_BY_STATUS: Record<number, ErrorCode> = { 400: 'INVALID_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

/** Any error as an OpenAI-shaped body; unknown errors become a 500 without their message (it may hold secrets). */
export function toOpenAiError(err: unknown): { status: number; body: OpenAiErrorBody } {
  let ge: GatewayError;
  if (err instanceof GatewayError) ge = err;
  else if (err instanceof HttpException) {
    const status = err.getStatus();
    ge = new GatewayError(CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_REQUEST'), status >= 500 ? 'internal error' : err.message, { status });
  } else ge = GatewayError.from(err);
  const type = TYPE_BY_STATUS[ge.status] ?? (ge.status >= 500 ? 'server_error' : 'invalid_request_error');
  return { status: ge.status, body: { error: { message: ge.message, type, param: ge.param, code: ge.code.toLowerCase() } } };
}

@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(err: unknown, host: ArgumentsHost): void {
    const { status, body } = toOpenAiError(err);
    if (status >= 500) this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
