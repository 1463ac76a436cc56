/**
 * Stable codes of `PasswordCryptoError`.
 * - `ERR_INVALID_PASSWORD`: the password to encrypt is not a string, is empty, is not valid Unicode
 *   text or contains control characters other than tab, CR and LF.
 * - `ERR_PASSWORD_TOO_LONG`: the password has more UTF-8 bytes than the key and padding can hold.
 * - `ERR_INVALID_KEY`: not a key in a supported format, or the wrong half of the pair (a private key
 *   given to encrypt, a public key given to decrypt).
 * - `ERR_NOT_RSA_KEY`: a valid key of a type that cannot encrypt (ed25519, ECDSA, DSA, RSA-PSS).
 * - `ERR_WEAK_KEY`: an RSA key whose numbers protect nothing or cannot be computed with in
 *   reasonable time: a modulus under 1024 bits or over 16384, a public exponent that is even, under
 *   3, or of 2^256 or more, or a private number (d, p, q, dp, dq, qi) longer than the modulus.
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
  | 'ERR_WEAK_KEY'
  | 'ERR_PASSPHRASE_REQUIRED'
  | 'ERR_WRONG_PASSPHRASE'
  | 'ERR_CORRUPT_CIPHERTEXT'
  | 'ERR_KEY_SIZE_MISMATCH'
  | 'ERR_DECRYPTION_FAILED';

/**
 * Thrown by `encryptPassword` and `decryptPassword`. Branch on `code`; the message says what to do
 * and never contains a key, a passphrase or a password. The browser module's `PasswordCryptoError`
 * is the same contract (same name, same code for the same failure), in a copy of its own because
 * that module has no dependencies.
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

/* The key errors both halves of the pair throw, worded once. */

const KEY_TYPE_NAMES: Readonly<Record<string, string>> = {
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  ec: 'ECDSA',
  ecdsa: 'ECDSA',
  dsa: 'DSA',
  dh: 'Diffie-Hellman',
  'rsa-pss': 'RSA-PSS (signing only)',
};

/** A readable name of a key type as Node (`ed25519`, `ec`) or sshpk (`ecdsa`) calls it. */
export function keyTypeName(type: string): string {
  return KEY_TYPE_NAMES[type] ?? type;
}

/** `ERR_INVALID_KEY` with `message`. */
export function invalidKey(message: string): PasswordCryptoError {
  return new PasswordCryptoError('ERR_INVALID_KEY', message);
}

/** `ERR_NOT_RSA_KEY`: a valid key of a type that cannot encrypt. */
export function notRsaKey(typeName: string, half: 'public' | 'private'): PasswordCryptoError {
  const advice =
    half === 'public'
      ? 'Create one with `ssh-keygen -t rsa -b 4096` and give the instance its public key.'
      : "Use the RSA private key matching the instance's public key.";
  return new PasswordCryptoError(
    'ERR_NOT_RSA_KEY',
    `This is a ${half} key of type ${typeName}; instance passwords are encrypted with RSA keys only. ${advice}`,
  );
}

/** `ERR_WEAK_KEY`: `why` the RSA key's numbers cannot protect a password. */
export function weakKey(why: string): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_WEAK_KEY',
    `This RSA key is refused: ${why}. Create a new key with \`ssh-keygen -t rsa -b 4096\`.`,
  );
}

/** `ERR_PASSPHRASE_REQUIRED`. */
export function passphraseRequired(): PasswordCryptoError {
  return new PasswordCryptoError('ERR_PASSPHRASE_REQUIRED', 'The private key is encrypted: pass its passphrase.');
}

/** `ERR_WRONG_PASSPHRASE`. */
export function wrongPassphrase(): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_WRONG_PASSPHRASE',
    'The passphrase does not open the private key (or the key file is damaged): check the passphrase.',
  );
}
