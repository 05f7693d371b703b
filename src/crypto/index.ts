/**
 * PII encryption: a key ring (AES-256-GCM, tenant-bound, rotatable) and a blind index for emails.
 * See docs/security.md.
 */
export { createKeyRing, keyRingFromEnv, envKeyRing, decrypt, decryptJson, normaliseEmail } from './key-ring.js';
export type { KeyRing, KeyRingOptions, KeyRingEnv } from './key-ring.js';
export { parseKeyMaterial, keyFingerprint } from './key-material.js';
export type { KeyInput } from './key-material.js';
export { DecryptError, EncryptionKeyMismatchError } from './errors.js';
