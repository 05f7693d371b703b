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

  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(reason: DecryptError['reason'], message: string, options: { keyId?: string; cause?: unknown } = {}) {
    super('DECRYPT_FAILED', message, { cause: options.cause, details: { reason, keyId: options.keyId } });
    this.reason = reason;
    this.keyId = options.keyId;
  }
}

/**
 * The configured key ring cannot open data already in the database: `ENCRYPTION_KEY` is not the
 * key the stored tenants' tokens (and PII) were encrypted with, and the old key is not in
 * `ENCRYPTION_PREVIOUS_KEYS`. Raised by `initialize()` before anything is written, so no token is
 * re-encrypted under the wrong key. Code `ENCRYPTION_KEY_MISMATCH`.
 *
 * @example
 * ```ts
 * try { await shopifyService.initialize() }
 * catch (e) { if (e instanceof EncryptionKeyMismatchError) console.error(e.tenantIds, e.storedKeyIds) }
 * ```
 */
export class EncryptionKeyMismatchError extends ShopifyIngestError {
  /** Tenants whose stored token the key ring could not decrypt. */
  readonly tenantIds: string[];
  /** Key ids named by their ciphertexts (fingerprints, never key material). */
  readonly storedKeyIds: string[];
  /** Key ids the configured ring holds. */
  readonly ringKeyIds: string[];

  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(options: { tenantIds: string[]; storedKeyIds: string[]; ringKeyIds: string[] }) {
    const { tenantIds, storedKeyIds, ringKeyIds } = options;
    const shown = tenantIds.slice(0, 5).join(', ') + (tenantIds.length > 5 ? `, and ${tenantIds.length - 5} more` : '');
    super(
      'ENCRYPTION_KEY_MISMATCH',
      `ENCRYPTION_KEY does not match the database: the stored access tokens of ${tenantIds.length} tenant(s) (${shown}) were encrypted under key `
        + `${storedKeyIds.join(', ') || '(unreadable)'}, which the key ring (${ringKeyIds.join(', ')}) does not hold. `
        + 'Set ENCRYPTION_KEY to the key they were written with (while rotating, keep the old one in ENCRYPTION_PREVIOUS_KEYS; see docs/security.md), '
        + 'or remove those tenants (`shopify-ingest tenants remove <tenant> --purge`). Nothing was changed.',
      { details: { tenantIds, storedKeyIds, ringKeyIds } },
    );
    this.tenantIds = tenantIds;
    this.storedKeyIds = storedKeyIds;
    this.ringKeyIds = ringKeyIds;
  }
}
