/**
 * Stable codes of `PasswordCryptoError`.
 * - `ERR_INVALID_PASSWORD`: the password to encrypt is not a string, is empty, is not valid Unicode
 *   text or contains control characters other than tab, CR and LF.
 * - `ERR_PASSWORD_TOO_LONG`: the password has more UTF-8 bytes than the key and padding can hold.
 * - `ERR_INVALID_KEY`: not a key in a supported format, or the wrong half of the pair (a private key
 *   given to encrypt, a public key given to decrypt).
 * - `ERR_NOT_RSA_KEY`: a valid key of a type that cannot encrypt (ed25519, ECDSA, DSA, RSA-PSS).
 * - `ERR_PASSPHRASE_REQUIRED`: the private key is encrypted and no passphrase was given.
 * - `ERR_WRONG_PASSPHRASE`: the passphrase does not open the private key.
 * - `ERR_CORRUPT_CIPHERTEXT`: the ciphertext is empty or not base64.
 * - `ERR_KEY_SIZE_MISMATCH`: the ciphertext's length is not the key's size: it was encrypted for
 *   another key, or cut short.
 * - `ERR_DECRYPTION_FAILED`: the padding or the plaintext is invalid: another key (of the same size),
 *   another padding, or an altered ciphertext.
 */
export type PasswordCryptoErrorCode =
  | 'ERR_INVALID_PASSWORD'
  | 'ERR_PASSWORD_TOO_LONG'
  | 'ERR_INVALID_KEY'
  | 'ERR_NOT_RSA_KEY'
  | 'ERR_PASSPHRASE_REQUIRED'
  | 'ERR_WRONG_PASSPHRASE'
  | 'ERR_CORRUPT_CIPHERTEXT'
  | 'ERR_KEY_SIZE_MISMATCH'
  | 'ERR_DECRYPTION_FAILED';

/**
 * Thrown by `encryptPassword` and `decryptPassword`. Branch on `code`; the message says what to do
 * and never contains a key, a passphrase or a password.
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
