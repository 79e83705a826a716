import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/*
 * Provider credentials at rest (ADR 0010): sealed by the ingress's admin API, opened by the executor. Both hold
 * GATEWAY_ENCRYPTION_KEY; what travels between them over NATS stays sealed.
 */

export type Sealed = { ciphertext: Buffer; iv: Buffer; authTag: Buffer };

/** AES-256-GCM with a fresh 12-byte IV per secret; the 16-byte tag makes any tampering fail the decryption. */
export function seal(key: Buffer, plaintext: string, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** Throws when the key is wrong or the data (or the provider id bound as AAD) was altered. */
export function open(key: Buffer, sealed: Sealed, aad: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.authTag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
}

/** What the admin API shows of a secret: never more than its last 4 characters. */
export function mask(last4: string): string {
  return `…${last4}`;
}

/** GATEWAY_ENCRYPTION_KEY (64 hex characters) → the 32-byte key. */
export function encryptionKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new Error('GATEWAY_ENCRYPTION_KEY must be 64 hex characters (32 bytes)');
  return Buffer.from(hex, 'hex');
}
