import { OptionsError, checkKnownOptions } from '../options';
import { decodeCiphertext } from './ciphertext';
import { PasswordCryptoError } from './errors';
import { modulusBytes } from './key-kind';
import { paddingOption } from './padding';
import { passwordFromBytes } from './password-text';
import { loadPrivateKey } from './private-key';
import { rsaDecrypt } from './rsa-decrypt';
import type { DecryptPasswordOptions } from './types';

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
 *   `BEGIN ENCRYPTED PRIVATE KEY`) or OpenSSH (`BEGIN OPENSSH PRIVATE KEY`), encrypted or not.
 * @param options `padding` (default `'pkcs1'`), and `passphrase` for an encrypted key.
 * @throws PasswordCryptoError `ERR_CORRUPT_CIPHERTEXT`, `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`,
 *   `ERR_PASSPHRASE_REQUIRED`, `ERR_WRONG_PASSPHRASE`, `ERR_KEY_SIZE_MISMATCH`,
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
