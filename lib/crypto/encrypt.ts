import { constants, publicEncrypt } from 'node:crypto';
import { checkKnownOptions } from '../core/options';
import { PasswordCryptoError } from './errors';
import { maxPlaintextBytes, paddingOption, type PasswordPadding } from './padding';
import { passwordBytes } from './password-text';
import { loadPublicKey, modulusBytes } from './public-key';

/** Options of `encryptPassword`. */
export interface EncryptPasswordOptions {
  /** The padding; default `'pkcs1'`. */
  readonly padding?: PasswordPadding;
}

/**
 * Encrypts a password with an RSA public key, as a guest agent does before posting it to the
 * metadata service, and returns the ciphertext in base64 (one RSA block).
 *
 * @param password Non-empty text; control characters other than tab, CR and LF are refused.
 * @param publicKey An `ssh-rsa AAAA... comment` line (as in authorized_keys or Nova keypairs), or a
 *   PEM public key (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`). Keys that protect nothing are
 *   refused: a modulus under 1024 bits or over 16384, a public exponent even or under 3. 1024- to
 *   2047-bit keys work, but are weak.
 * @param options `padding`: `'pkcs1'` (default; what cloudbase-init and Nova use) or `'oaep-sha256'`.
 * @throws PasswordCryptoError `ERR_INVALID_PASSWORD`, `ERR_PASSWORD_TOO_LONG`, `ERR_INVALID_KEY`,
 *   `ERR_NOT_RSA_KEY`, `ERR_WEAK_KEY`; OptionsError for an unknown or invalid option.
 */
export function encryptPassword(password: string, publicKey: string, options: EncryptPasswordOptions = {}): string {
  checkKnownOptions('encryptPassword', options, ['padding']);
  const padding = paddingOption('encryptPassword', options.padding);
  const plaintext = passwordBytes(password);
  const key = loadPublicKey(publicKey);
  const keyBytes = modulusBytes(key);
  const limit = maxPlaintextBytes(padding, keyBytes);
  if (plaintext.length > limit) {
    throw new PasswordCryptoError(
      'ERR_PASSWORD_TOO_LONG',
      `The password is ${plaintext.length} bytes in UTF-8; a ${keyBytes * 8}-bit key with ${padding} padding ` +
        `holds at most ${Math.max(limit, 0)}. Use a shorter password or a larger key.`,
    );
  }
  const ciphertext = publicEncrypt(
    padding === 'pkcs1'
      ? { key, padding: constants.RSA_PKCS1_PADDING }
      : { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    plaintext,
  );
  return ciphertext.toString('base64');
}
