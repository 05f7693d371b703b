import { ShopifyIngestError } from '../errors.js';

/**
 * A ciphertext could not be decrypted: malformed, written under a key the ring does not hold,
 * tampered with, or sealed for another tenant (the tenant id is the GCM associated data).
 *
 * @example
 * ```ts
 * try { ring.decrypt(row.emailEnc, tenantId) }
 * catch (e) { if (e instanceof DecryptError && e.reason === 'unknown-key') alertOps(e.keyId) }
 * ```
 */
export class DecryptError extends ShopifyIngestError {
  /** Why decryption failed; never includes plaintext or key material. */
  readonly reason: 'malformed' | 'unknown-key' | 'authentication-failed';
  /** Key id named by the ciphertext, when it could be read. */
  readonly keyId: string | undefined;

  constructor(reason: DecryptError['reason'], message: string, options: { keyId?: string; cause?: unknown } = {}) {
    super('DECRYPT_FAILED', message, { cause: options.cause, details: { reason, keyId: options.keyId } });
    this.reason = reason;
    this.keyId = options.keyId;
  }
}
