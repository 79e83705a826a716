export type Role = 'member' | 'admin' | 'finance';

/** Who is calling: a virtual key and what it may do. */
export type Identity = {
  keyId: string;
  teamId: string;
  orgId: string | null;
  role: Role;
  /** models the key may use; null = every model */
  models: string[] | null;
  tags: Record<string, string>;
  /** epoch ms, or null */
  expiresAt: number | null;
  revoked: boolean;
};
