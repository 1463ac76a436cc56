/**
 * Stable codes of the browser module's `PasswordCryptoError`.
 * - `ERR_INVALID_OPTION`: an option is unknown or has a wrong value.
 * - `ERR_INVALID_KEY`: not a private key in a supported format (a public key, a damaged file, ...).
 * - `ERR_NOT_RSA_KEY`: a valid private key of a type that cannot decrypt (Ed25519, ECDSA, DSA).
 * - `ERR_ENCRYPTED_KEY`: the private key is protected by a passphrase, which this module does not
 *   open: decrypt with the `metadata-password decrypt` command instead.
 * - `ERR_CORRUPT_CIPHERTEXT`: the ciphertext is empty or not base64.
 * - `ERR_KEY_SIZE_MISMATCH`: the ciphertext's length is not the key's size.
 * - `ERR_DECRYPTION_FAILED`: the padding or the plaintext is invalid: another key, another padding,
 *   or an altered ciphertext.
 * - `ERR_WEBCRYPTO_UNAVAILABLE`: `'oaep-sha256'` needs WebCrypto (`crypto.subtle`), which browsers
 *   offer only to secure contexts: serve the page over HTTPS (or from localhost).
 */
export type PasswordCryptoErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_KEY'
  | 'ERR_NOT_RSA_KEY'
  | 'ERR_ENCRYPTED_KEY'
  | 'ERR_CORRUPT_CIPHERTEXT'
  | 'ERR_KEY_SIZE_MISMATCH'
  | 'ERR_DECRYPTION_FAILED'
  | 'ERR_WEBCRYPTO_UNAVAILABLE';

/**
 * Thrown (as a rejection) by `decryptPassword`. Branch on `code`; the message says what to do and
 * never contains the key or the password.
 */
export class PasswordCryptoError extends Error {
  /** The stable code, one of `PasswordCryptoErrorCode`. */
  readonly code: PasswordCryptoErrorCode;

  constructor(code: PasswordCryptoErrorCode, message: string) {
    super(message);
    this.name = 'PasswordCryptoError';
    this.code = code;
  }
}

/**
 * Thrown (as a rejection) by `getServerPassword` and `clearServerPassword` when the owner API
 * refuses or cannot be reached. The message is the server's own (control and bidirectional
 * characters removed), or says what went wrong on the way.
 */
export class ServerPasswordError extends Error {
  /** The HTTP status, or 0 when no answer came (network error, invalid request). */
  readonly status: number;
  /** The server's error code (`FORBIDDEN`, `INSTANCE_NOT_FOUND`, ...), when its body named one. */
  readonly code: string | undefined;

  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.name = 'ServerPasswordError';
    this.status = status;
    this.code = code;
  }
}
