import { passwordError } from './errors';
import type { PasswordFormat } from './types';

/** Bounds of one RSA block: a 512-bit to an 8192-bit key. */
const MIN_CIPHERTEXT_BYTES = 64;
const MAX_CIPHERTEXT_BYTES = 1024;

const LINE_BREAKS = /[\r\n]/g;
const CONTROL_CHARACTER = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Checks a password value against `format` and `maxBytes` and returns the form to store (base64
 * without line breaks). Throws a `PasswordError` saying what is wrong: 413 `PAYLOAD_TOO_LARGE` or
 * 400 `INVALID_PASSWORD`.
 */
export function normalizePassword(value: unknown, format: PasswordFormat, maxBytes: number): string {
  if (typeof value !== 'string') {
    throw passwordError('INVALID_PASSWORD', 'The password must be a string.');
  }
  if (LONE_SURROGATE.test(value)) {
    throw passwordError('INVALID_PASSWORD', 'The password is not valid UTF-8 text.');
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) {
    throw passwordError('PAYLOAD_TOO_LARGE', `The password is ${bytes} bytes; the limit is ${maxBytes}.`);
  }
  const candidate = format === 'base64' ? value.replace(LINE_BREAKS, '') : value;
  if (candidate.length === 0) {
    throw passwordError('INVALID_PASSWORD', 'The password is empty.');
  }
  if (CONTROL_CHARACTER.test(candidate)) {
    throw passwordError('INVALID_PASSWORD', 'The password contains control characters.');
  }
  if (format === 'base64') checkCiphertext(candidate);
  return candidate;
}

function checkCiphertext(value: string): void {
  if (value.length % 4 !== 0 || !BASE64_ALPHABET.test(value)) {
    throw passwordError(
      'INVALID_PASSWORD',
      'The password is not base64 (standard alphabet, padded): post the RSA-encrypted password, not plaintext.',
    );
  }
  const decoded = Buffer.from(value, 'base64');
  if (decoded.toString('base64') !== value) {
    throw passwordError('INVALID_PASSWORD', 'The password is not canonical base64 (stray bits after the last byte).');
  }
  if (decoded.length < MIN_CIPHERTEXT_BYTES || decoded.length > MAX_CIPHERTEXT_BYTES) {
    throw passwordError(
      'INVALID_PASSWORD',
      `The password decodes to ${decoded.length} bytes; one RSA-encrypted block is ${MIN_CIPHERTEXT_BYTES} to ${MAX_CIPHERTEXT_BYTES} bytes: post the encrypted password, not plaintext.`,
    );
  }
}
