import { z } from 'zod';

/* ---------------- OpenAI embeddings (the public wire format of POST /v1/embeddings) ---------------- */

const MAX_INPUTS = 2048;

export const EmbeddingsCreateRequest = z.strictObject({
  model: z.string().min(1, 'model is required'),
  input: z.union([
    z.string().min(1, 'input must not be empty'),
    z
      .array(z.string().min(1, 'input strings must not be empty'))
      .min(1, 'input must hold at least one string')
      .max(MAX_INPUTS),
    z.array(z.number().int().nonnegative()).min(1, 'input must hold at least one token'),
    z
      .array(z.array(z.number().int().nonnegative()).min(1, 'token arrays must not be empty'))
      .min(1, 'input must hold at least one token array')
      .max(MAX_INPUTS),
  ]),
  dimensions: z.number().int().min(1).optional(),
  encoding_format: z.enum(['float', 'base64']).optional(),
  user: z.string().optional(),
});
export type EmbeddingsCreateRequest = z.infer<typeof EmbeddingsCreateRequest>;
