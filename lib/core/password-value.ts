import { canonicalBase64Length, withoutLineBreaks } from './base64';
import { passwordError } from './errors';
import type { PasswordFormat } from '../types';

/** Bounds of one RSA block: a 512-bit to an 8192-bit key. */
const MIN_CIPHERTEXT_BYTES = 64;
const MAX_CIPHERTEXT_BYTES = 1024;

const CONTROL_CHARACTER = /\p{Cc}/u;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Checks a password value against `format` and `maxBytes` and returns the form to store (base64
 * without line breaks). Throws a `PasswordError` saying what is wrong: 413 `PAYLOAD_TOO_LARGE` or
 * 400 `INVALID_PASSWORD`.
 */
export function normalizePassword(value: unknown, format: PasswordFormat, maxBytes: number): string {
  if (typeof value !== 'string') {
    throw passwordError('INVALID_PASSWORD', 'The password must be a string.');
  }
  if (format === 'base64' && isPlainCiphertext(value, maxBytes)) return value;
  if (LONE_SURROGATE.test(value)) {
    throw passwordError('INVALID_PASSWORD', 'The password is not valid UTF-8 text.');
  }
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) {
    throw passwordError('PAYLOAD_TOO_LARGE', `The password is ${bytes} bytes; the limit is ${maxBytes}.`);
  }
  const candidate = format === 'base64' ? withoutLineBreaks(value) : value;
  if (candidate.length === 0) {
    throw passwordError('INVALID_PASSWORD', 'The password is empty.');
  }
  if (CONTROL_CHARACTER.test(candidate)) {
    throw passwordError('INVALID_PASSWORD', 'The password contains control characters.');
  }
  if (format === 'base64') checkCiphertext(candidate);
  return candidate;
}

/**
 * The common case, checked in one pass: one ciphertext block of canonical base64 without line
 * breaks (ASCII, so its length is its size in bytes). Anything else takes the checks that say what
 * is wrong.
 */
function isPlainCiphertext(value: string, maxBytes: number): boolean {
  if (value.length > maxBytes) return false;
  const bytes = canonicalBase64Length(value);
  return bytes !== undefined && bytes >= MIN_CIPHERTEXT_BYTES && bytes <= MAX_CIPHERTEXT_BYTES;
}

function checkCiphertext(value: string): void {
  const bytes = canonicalBase64Length(value);
  if (bytes === undefined) {
    throw passwordError(
      'INVALID_PASSWORD',
      'The password is not base64 (standard alphabet, padded, canonical): post the RSA-encrypted password, not plaintext.',
    );
  }
  if (bytes < MIN_CIPHERTEXT_BYTES || bytes > MAX_CIPHERTEXT_BYTES) {
    throw passwordError(
      'INVALID_PASSWORD',
      `The password decodes to ${bytes} bytes; one RSA-encrypted block is ${MIN_CIPHERTEXT_BYTES} to ${MAX_CIPHERTEXT_BYTES} bytes: post the encrypted password, not plaintext.`,
    );
  }
}
