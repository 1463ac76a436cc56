/**
 * Stable codes of the browser module's `PasswordCryptoError`. It is the same contract as the
 * `PasswordCryptoError` of `express-metadata-password/crypto` (one class in the Node code, this
 * copy because the module has no dependencies): the same name, a `code` to branch on, and the same
 * code for the same failure. Two codes are the page's own: `ERR_ENCRYPTED_KEY` (the page never
 * takes a passphrase, where `/crypto` asks for one with `ERR_PASSPHRASE_REQUIRED`) and
 * `ERR_WEBCRYPTO_UNAVAILABLE`; `ERR_INVALID_OPTION` is the code `/crypto`'s `OptionsError` carries.
 * - `ERR_INVALID_OPTION`: an option is unknown or has a wrong value.
 * - `ERR_INVALID_KEY`: not a private key in a supported format (a public key, a damaged file, ...).
 * - `ERR_NOT_RSA_KEY`: a valid private key of a type that cannot decrypt (Ed25519, ECDSA, DSA).
 * - `ERR_WEAK_KEY`: an RSA key whose numbers protect nothing or would make decryption slow: a
 *   modulus under 1024 bits or over 16384, a public exponent under 3, even, or of 2^256 or more, or
 *   a private number (d, p, q, dp, dq, qi) longer than the modulus.
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
  | 'ERR_WEAK_KEY'
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
 * refuses, cannot be reached in time, or answers with a redirect. The message is the server's own
 * (control and format characters removed, at most 300 characters), or says what went wrong.
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
