/**
 * RSA encryption padding.
 * - `'pkcs1'`: RSAES-PKCS1-v1_5, what cloudbase-init and Nova use (the default).
 * - `'oaep-sha256'`: RSAES-OAEP with SHA-256 and MGF1-SHA256, for agents that choose it.
 */
export type PasswordPadding = 'pkcs1' | 'oaep-sha256';

/** Options of `encryptPassword`. */
export interface EncryptPasswordOptions {
  /** The padding; default `'pkcs1'`. */
  readonly padding?: PasswordPadding;
}

/** Options of `decryptPassword`. */
export interface DecryptPasswordOptions {
  /** The padding the ciphertext was made with; default `'pkcs1'`. */
  readonly padding?: PasswordPadding;
  /** The passphrase of an encrypted private key; ignored for a key without one. */
  readonly passphrase?: string;
}
