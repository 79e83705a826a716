import { z } from 'zod';

export const CredentialCreate = z.strictObject({
  /** the provider id of the config (`providers[].id`) this credential authenticates */
  providerId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'providerId: letters, digits, . _ -')
    .max(100),
  apiKey: z.string().min(8, 'apiKey is too short').max(10_000),
});
export type CredentialCreate = z.infer<typeof CredentialCreate>;
