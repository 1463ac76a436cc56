import { canonicalBase64Length, withoutLineBreaks } from './base64';
import { rsaPublicKeyOf, type RsaPublicKeyInfo } from '../crypto/public-key';
import { PasswordCryptoError } from '../crypto/errors';
import { internalError, passwordError } from './errors';
import { everyInterval, type Diagnostics } from './logging';
import type { PasswordFormat } from '../types';

/** Bounds of one RSA block: a 512-bit to an 8192-bit key. */
const MIN_CIPHERTEXT_BYTES = 64;
const MAX_CIPHERTEXT_BYTES = 1024;
/** How many distinct valid keys are kept parsed; past it the oldest is parsed again when next seen. */
const CACHED_KEYS = 1000;
const BAD_KEY_LOG_INTERVAL_MS = 60_000;

const CONTROL_CHARACTER = /\p{Cc}/u;

/** A valid public key of a type that cannot encrypt (ed25519, ECDSA): skipped. */
const NOT_RSA = 'not RSA';

const NO_RSA_KEY = passwordError(
  'INVALID_PASSWORD',
  'The instance has no RSA key (its keys are of other types, such as ed25519 or ECDSA): the agent needs an RSA key to encrypt the password. Give the instance an ssh-rsa key.',
);

/** What a value is checked against: the service's format and size, and the instance's keys. */
interface PasswordLimits {
  readonly format: PasswordFormat;
  readonly maxBytes: number;
  readonly log: Diagnostics;
}

/**
 * The one place a password value is checked: its shape (`format`, `maxBytes`), then, when the
 * instance has public keys and the format is `'base64'`, that it is exactly one RSA block for one
 * of its RSA keys (as long as that modulus and below it); keys that are not RSA are skipped. Parsed
 * keys are kept in a bounded cache of valid keys only; a key that cannot be read is the host's
 * mistake, answered 500 and logged at most once a minute.
 */
export class PasswordRules {
  readonly #limits: PasswordLimits;
  readonly #keys = new Map<string, RsaPublicKeyInfo | typeof NOT_RSA>();
  readonly #badKeyLogGate = everyInterval(BAD_KEY_LOG_INTERVAL_MS);

  constructor(limits: PasswordLimits) {
    this.#limits = limits;
  }

  /**
   * Returns the form to store (base64 without line breaks). Throws a `PasswordError` saying what is
   * wrong: 413 `PAYLOAD_TOO_LARGE` or 400 `INVALID_PASSWORD` (not one block for any RSA key of
   * `publicKeys`, or none of them is RSA), or 500 `INTERNAL` for a `publicKeys` entry that is no
   * public key at all. An empty list checks nothing.
   */
  check(value: unknown, publicKeys?: string | readonly string[]): string {
    const { format, maxBytes } = this.#limits;
    const normalized = normalizePassword(value, format, maxBytes);
    if (publicKeys !== undefined && format === 'base64') this.#checkBlock(normalized, publicKeys);
    return normalized;
  }

  #checkBlock(value: string, publicKeys: string | readonly string[]): void {
    const texts = typeof publicKeys === 'string' ? [publicKeys] : publicKeys;
    if (texts.length === 0) return;
    const rsaKeys: RsaPublicKeyInfo[] = [];
    for (const text of texts) {
      const key = this.#parsed(text);
      if (key !== NOT_RSA) rsaKeys.push(key);
    }
    if (rsaKeys.length === 0) throw NO_RSA_KEY;
    const block = Buffer.from(value, 'base64');
    if (rsaKeys.some((key) => block.length === key.modulus.length && block.compare(key.modulus) < 0)) return;
    throw passwordError('INVALID_PASSWORD', mismatch(block, rsaKeys));
  }

  #parsed(publicKey: string): RsaPublicKeyInfo | typeof NOT_RSA {
    const cached = this.#keys.get(publicKey);
    if (cached !== undefined) return cached;
    let key: RsaPublicKeyInfo | typeof NOT_RSA;
    try {
      key = rsaPublicKeyOf(publicKey);
    } catch (error) {
      if (error instanceof PasswordCryptoError && error.code === 'ERR_NOT_RSA_KEY') {
        key = NOT_RSA;
      } else {
        if (this.#badKeyLogGate()) {
          this.#limits.log.error(
            'lookupInstance resolved a publicKey that is not a public key; answered 500 (said at most once a minute).',
            error,
          );
        }
        throw internalError();
      }
    }
    if (this.#keys.size >= CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#keys.set(publicKey, key);
    return key;
  }
}

/** Why `block` fits none of `keys`, naming the key sizes it was checked against. */
function mismatch(block: Buffer, keys: readonly RsaPublicKeyInfo[]): string {
  if (keys.length === 1) {
    const [key] = keys;
    return (
      `The password is not encrypted for this instance's ${key.bits}-bit key: a ciphertext for it is one ` +
      `${key.modulus.length}-byte block below the key's modulus, and ${
        block.length === key.modulus.length ? 'this block is at or above the modulus' : `this is ${block.length} bytes`
      }.`
    );
  }
  const sizes = [...new Set(keys.map((key) => key.bits))].sort((a, b) => a - b);
  const names = sizes.map((bits) => `${bits}-bit`).join(', ');
  const lengths = [...new Set(keys.map((key) => key.modulus.length))].join(' or ');
  const why = keys.some((key) => key.modulus.length === block.length)
    ? `this ${block.length}-byte block is at or above the modulus of each key of that size`
    : `a ciphertext is one block below a key's modulus (${lengths} bytes), and this is ${block.length} bytes`;
  return `The password is not encrypted for any of this instance's RSA keys (${names}): ${why}.`;
}

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
  if (!value.isWellFormed()) {
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
