import { decodeCanonicalBase64 } from '../base64';
import { PasswordCryptoError } from './errors';

const WHITESPACE = /\s+/g;

/**
 * Decodes a base64 ciphertext, ignoring whitespace and line breaks but nothing else: standard
 * alphabet, padded, canonical. Throws `ERR_CORRUPT_CIPHERTEXT`.
 */
export function decodeCiphertext(ciphertext: unknown): Buffer {
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
