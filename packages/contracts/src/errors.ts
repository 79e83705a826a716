import { z } from 'zod';

/**
 * Stable error codes. An error keeps its code across every NATS hop and is mapped to HTTP only at the edge
 * (ingress / billing). `retryable` tells the executor whether the next target of a plan may be tried.
 */
export const ERROR_CODES = [
  'INVALID_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'MODEL_NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'BUDGET_EXCEEDED',
  'MODERATION_BLOCKED',
  'CONTEXT_WINDOW_EXCEEDED',
  'PROVIDER_ERROR',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_TIMEOUT',
  'PROVIDER_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'CANCELLED',
  'NOT_FOUND',
  'INTERNAL',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const GatewayErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  /** HTTP status the edge should answer with. */
  status: z.number().int(),
  retryable: z.boolean(),
  param: z.string().nullable().optional(),
  /** seconds, when the upstream said when to come back */
  retryAfterSeconds: z.number().optional(),
});
export type GatewayErrorBody = z.infer<typeof GatewayErrorBody>;

const DEFAULTS: Record<ErrorCode, { status: number; retryable: boolean }> = {
  INVALID_REQUEST: { status: 400, retryable: false },
  UNAUTHENTICATED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  MODEL_NOT_FOUND: { status: 404, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  RATE_LIMITED: { status: 429, retryable: false },
  BUDGET_EXCEEDED: { status: 429, retryable: false },
  MODERATION_BLOCKED: { status: 403, retryable: false },
  CONTEXT_WINDOW_EXCEEDED: { status: 400, retryable: true },
  PROVIDER_ERROR: { status: 502, retryable: true },
  PROVIDER_RATE_LIMITED: { status: 429, retryable: true },
  PROVIDER_TIMEOUT: { status: 504, retryable: true },
  PROVIDER_UNAVAILABLE: { status: 503, retryable: true },
  SERVICE_UNAVAILABLE: { status: 503, retryable: false },
  DEADLINE_EXCEEDED: { status: 504, retryable: false },
  CANCELLED: { status: 499, retryable: false },
  INTERNAL: { status: 500, retryable: false },
};

/** A serialisable error with a stable code: it survives a network hop (documenso's AppError). */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { status?: number; retryable?: boolean; param?: string | null; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? DEFAULTS[code].status;
    this.retryable = opts.retryable ?? DEFAULTS[code].retryable;
    this.param = opts.param ?? null;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  toJSON(): GatewayErrorBody {
    const body: GatewayErrorBody = {
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
      param: this.param,
    };
    if (this.retryAfterSeconds !== undefined) body.retryAfterSeconds = this.retryAfterSeconds;
    return body;
  }

  static fromJSON(body: GatewayErrorBody): GatewayError {
    const opts: { status: number; retryable: boolean; param: string | null; retryAfterSeconds?: number } = {
      status: body.status,
      retryable: body.retryable,
      param: body.param ?? null,
    };
    if (body.retryAfterSeconds !== undefined) opts.retryAfterSeconds = body.retryAfterSeconds;
    return new GatewayError(body.code, body.message, opts);
  }

  /** Anything thrown becomes a GatewayError; unknown errors never leak their message (it may hold secrets). */
  static from(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    return new GatewayError('INTERNAL', 'internal error');
  }
}
