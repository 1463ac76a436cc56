import { constants, privateDecrypt, type KeyObject } from 'node:crypto';
import { decodeCanonicalBase64 } from '../core/base64';
import { OptionsError, checkKnownOptions } from '../core/options';
import { PasswordCryptoError } from './errors';
import { paddingOption, type PasswordPadding } from './padding';
import { passwordFromBytes } from './password-text';
import { decodePkcs1v15 } from './pkcs1-v1_5';
import { loadPrivateKey } from './private-key';
import { modulusBytes } from './public-key';

/** Options of `decryptPassword`. */
export interface DecryptPasswordOptions {
  /** The padding the ciphertext was made with; default `'pkcs1'`. */
  readonly padding?: PasswordPadding;
  /** The passphrase of an encrypted private key; ignored for a key without one. */
  readonly passphrase?: string;
}

const WHITESPACE = /\s+/g;

/**
 * Decrypts a password read from `GET .../servers/{id}/os-server-password`, on the owner's side.
 * A wrong key is reported, never answered with garbage: a failed padding check, a plaintext that is
 * not UTF-8 text, or a ciphertext of another key's size all throw. (With `'pkcs1'`, a wrong key of
 * the same size passes the padding check about once in 65,000 tries; the text check then catches
 * nearly all of those. `'oaep-sha256'` carries a digest and leaves no such chance.)
 *
 * Never expose this function as a service that decrypts what callers send: its distinct errors
 * make it a padding oracle, which lets a caller decrypt any ciphertext made for the key.
 *
 * @param ciphertext Base64, as the API answers it; whitespace and line breaks are ignored.
 * @param privateKey The owner's RSA private key: PEM (`BEGIN RSA PRIVATE KEY`, `BEGIN PRIVATE KEY`,
 *   `BEGIN ENCRYPTED PRIVATE KEY`) or OpenSSH (`BEGIN OPENSSH PRIVATE KEY`), encrypted or not. Keys
 *   that protect nothing are refused, as `encryptPassword` refuses their public halves.
 * @param options `padding` (default `'pkcs1'`), and `passphrase` for an encrypted key.
 * @throws PasswordCryptoError `ERR_CORRUPT_CIPHERTEXT`, `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`,
 *   `ERR_WEAK_KEY`, `ERR_PASSPHRASE_REQUIRED`, `ERR_WRONG_PASSPHRASE`, `ERR_KEY_SIZE_MISMATCH`,
 *   `ERR_DECRYPTION_FAILED`; OptionsError for an unknown or invalid option.
 */
export function decryptPassword(
  ciphertext: string,
  privateKey: string | Buffer,
  options: DecryptPasswordOptions = {},
): string {
  checkKnownOptions('decryptPassword', options, ['padding', 'passphrase']);
  const padding = paddingOption('decryptPassword', options.padding);
  const { passphrase } = options;
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    throw new OptionsError('ERR_INVALID_OPTION', 'decryptPassword: `passphrase` must be a string when given.');
  }
  const block = decodeCiphertext(ciphertext);
  const key = loadPrivateKey(privateKey, passphrase);
  const keyBytes = modulusBytes(key);
  if (block.length !== keyBytes) {
    throw new PasswordCryptoError(
      'ERR_KEY_SIZE_MISMATCH',
      `The ciphertext is ${block.length} bytes, but this ${keyBytes * 8}-bit key decrypts ${keyBytes}-byte blocks: ` +
        "it was encrypted for another key, or cut short. Use the private key matching the instance's public key.",
    );
  }
  const plaintext = rsaDecrypt(key, block, padding);
  const password = plaintext === undefined ? undefined : passwordFromBytes(plaintext);
  if (password === undefined) {
    throw new PasswordCryptoError(
      'ERR_DECRYPTION_FAILED',
      `Decryption failed: the ciphertext was encrypted for another key, with a padding other than ${padding}, ` +
        "or altered. Use the private key matching the instance's public key, and the agent's padding " +
        '(cloudbase-init and Nova use pkcs1).',
    );
  }
  return password;
}

/**
 * Decodes a base64 ciphertext, ignoring whitespace and line breaks but nothing else: standard
 * alphabet, padded, canonical. Throws `ERR_CORRUPT_CIPHERTEXT`.
 */
function decodeCiphertext(ciphertext: unknown): Buffer {
  if (typeof ciphertext !== 'string') {
    throw new PasswordCryptoError('ERR_CORRUPT_CIPHERTEXT', 'The ciphertext must be a base64 string.');
  }
  const compact = ciphertext.replace(WHITESPACE, '');
  if (compact === '') {
    throw new PasswordCryptoError(
      'ERR_CORRUPT_CIPHERTEXT',
      'The ciphertext is empty: no password has been set yet, or nothing was passed.',
    );
  }
  const bytes = decodeCanonicalBase64(compact);
  if (bytes === undefined) {
    throw new PasswordCryptoError(
      'ERR_CORRUPT_CIPHERTEXT',
      'The ciphertext is not base64 (standard alphabet, padded; line breaks are allowed): ' +
        'check that it was copied whole, without quotes or other characters.',
    );
  }
  return bytes;
}

/**
 * Decrypts one RSA block and returns the plaintext, or `undefined` when the padding check fails.
 * PKCS#1 v1.5 is OpenSSL's raw RSA (`RSA_NO_PADDING`, with its blinding) and a constant-time
 * decoding here: Node 20 refuses PKCS#1 v1.5 in `privateDecrypt` (CVE-2023-46809), and Node 22+
 * answers a bad block with random bytes ("implicit rejection"), which would hide a wrong key. OAEP
 * is OpenSSL's own, which reports a bad block on every version.
 */
function rsaDecrypt(key: KeyObject, ciphertext: Buffer, padding: PasswordPadding): Uint8Array | undefined {
  try {
    if (padding === 'oaep-sha256') {
      return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
    }
    return decodePkcs1v15(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext));
  } catch {
    // A block at or above the modulus, or an OAEP block that does not decode.
    return undefined;
  }
}
