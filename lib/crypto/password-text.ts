import { PasswordCryptoError } from './errors';

/** Control characters (C0, DEL, C1) other than tab, LF and CR: no password holds them. */
const FORBIDDEN_CONTROL = /[^\P{Cc}\t\n\r]/u;
const LONE_SURROGATE = /\p{Cs}/u;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function invalidPassword(message: string): PasswordCryptoError {
  return new PasswordCryptoError('ERR_INVALID_PASSWORD', message);
}

/** The UTF-8 bytes of a password to encrypt; throws `ERR_INVALID_PASSWORD` for what no password is. */
export function passwordBytes(password: unknown): Buffer {
  if (typeof password !== 'string' || password === '') {
    throw invalidPassword('The password must be a non-empty string.');
  }
  if (LONE_SURROGATE.test(password)) {
    throw invalidPassword('The password is not valid Unicode text (it holds a lone surrogate).');
  }
  if (FORBIDDEN_CONTROL.test(password)) {
    throw invalidPassword('The password contains control characters; only tab, CR and LF are allowed.');
  }
  return Buffer.from(password, 'utf8');
}

/**
 * The password a decrypted block holds, or `undefined` when the block cannot be one (empty, not
 * UTF-8, or control characters): what a wrong key yields when, by chance, its padding looks right.
 */
export function passwordFromBytes(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return text === '' || FORBIDDEN_CONTROL.test(text) ? undefined : text;
}
