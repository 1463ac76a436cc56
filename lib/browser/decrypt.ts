import { decodeBase64 } from './bytes.js';
import { PasswordCryptoError } from './errors.js';
import { decryptOaepSha256, decryptPkcs1 } from './padding.js';
import { passwordFromBytes } from './password-text.js';
import { readPrivateKey } from './private-key.js';
import { modulusBytes } from './rsa.js';
import type { DecryptPasswordOptions, PasswordPadding } from './types.js';

const PADDINGS: readonly PasswordPadding[] = ['pkcs1', 'oaep-sha256'];

function paddingOption(options: unknown): PasswordPadding {
  if (options === null || typeof options !== 'object') {
    throw new PasswordCryptoError('ERR_INVALID_OPTION', 'decryptPassword: the options must be an object.');
  }
  const unknown = Object.keys(options).filter((name) => name !== 'padding');
  if (unknown.length > 0) {
    throw new PasswordCryptoError(
      'ERR_INVALID_OPTION',
      `decryptPassword: unknown option ${unknown.map((name) => `\`${name}\``).join(', ')}; the only option is \`padding\`.` +
        (unknown.includes('passphrase') ? ' Passphrase-protected keys: use `metadata-password decrypt`.' : ''),
    );
  }
  const { padding } = options as DecryptPasswordOptions;
  if (padding === undefined) return 'pkcs1';
  if (PADDINGS.includes(padding)) return padding;
  throw new PasswordCryptoError(
    'ERR_INVALID_OPTION',
    "decryptPassword: `padding` must be 'pkcs1' (the default; cloudbase-init and Nova) or 'oaep-sha256'.",
  );
}

function decodeCiphertext(ciphertext: unknown): Uint8Array {
  if (typeof ciphertext !== 'string') {
    throw new PasswordCryptoError('ERR_CORRUPT_CIPHERTEXT', 'The ciphertext must be a base64 string.');
  }
  if (ciphertext.trim() === '') {
    throw new PasswordCryptoError(
      'ERR_CORRUPT_CIPHERTEXT',
      'The ciphertext is empty: no password has been set yet, or nothing was passed.',
    );
  }
  const block = decodeBase64(ciphertext);
  if (block === undefined) {
    throw new PasswordCryptoError(
      'ERR_CORRUPT_CIPHERTEXT',
      'The ciphertext is not base64 (standard alphabet, padded; line breaks are allowed): ' +
        'check that it was copied whole, without quotes or other characters.',
    );
  }
  return block;
}

/**
 * Decrypts a password read from `GET .../servers/{id}/os-server-password`, in the page: the private
 * key never leaves it. A wrong key is reported, never answered with garbage: a failed padding check,
 * a plaintext that is not UTF-8 text, or a ciphertext of another key's size all reject.
 *
 * @param ciphertext Base64, as the API answers it; whitespace and line breaks are ignored.
 * @param privateKey The owner's unencrypted RSA private key, as text: PEM (`BEGIN RSA PRIVATE KEY`,
 *   `BEGIN PRIVATE KEY`) or OpenSSH (`BEGIN OPENSSH PRIVATE KEY`). A passphrase-protected key is
 *   refused (`ERR_ENCRYPTED_KEY`): decrypt it with the `metadata-password decrypt` command.
 * @param options `padding`: `'pkcs1'` (default; cloudbase-init and Nova) or `'oaep-sha256'`.
 * @returns The password.
 * @throws PasswordCryptoError (as a rejection) `ERR_INVALID_OPTION`, `ERR_CORRUPT_CIPHERTEXT`,
 *   `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`, `ERR_ENCRYPTED_KEY`, `ERR_KEY_SIZE_MISMATCH`,
 *   `ERR_DECRYPTION_FAILED`, `ERR_WEBCRYPTO_UNAVAILABLE` (OAEP outside a secure context).
 */
export async function decryptPassword(
  ciphertext: string,
  privateKey: string,
  options: DecryptPasswordOptions = {},
): Promise<string> {
  const padding = paddingOption(options);
  const block = decodeCiphertext(ciphertext);
  const key = readPrivateKey(privateKey);
  const keyBytes = modulusBytes(key);
  if (block.length !== keyBytes) {
    throw new PasswordCryptoError(
      'ERR_KEY_SIZE_MISMATCH',
      `The ciphertext is ${block.length} bytes, but this ${keyBytes * 8}-bit key decrypts ${keyBytes}-byte blocks: ` +
        "it was encrypted for another key, or cut short. Use the private key matching the instance's public key.",
    );
  }
  const plaintext = padding === 'pkcs1' ? decryptPkcs1(key, block) : await decryptOaepSha256(key, block);
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
