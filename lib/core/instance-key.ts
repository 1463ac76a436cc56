import { decodeCanonicalBase64, withoutLineBreaks } from './base64';
import { rsaPublicKeyOf, type RsaPublicKeyInfo } from '../crypto/public-key';
import { PasswordCryptoError } from '../crypto/errors';
import { internalError, passwordError } from './errors';
import type { Diagnostics } from './logging';

/** How many distinct keys are kept parsed; past it the oldest is parsed again when next seen. */
const CACHED_KEYS = 1000;

/** What a key text of the instance turned out to be. */
type ParsedKey =
  | { readonly kind: 'rsa'; readonly key: RsaPublicKeyInfo }
  /** A valid key of a type that cannot encrypt (ed25519, ECDSA): skipped. */
  | { readonly kind: 'other' }
  /** No key at all: the host's mistake. */
  | { readonly kind: 'invalid' };

const OTHER: ParsedKey = { kind: 'other' };
const INVALID: ParsedKey = { kind: 'invalid' };

const NO_RSA_KEY = passwordError(
  'INVALID_PASSWORD',
  "The instance has no RSA key (its keys are of other types, such as ed25519 or ECDSA): the agent needs an RSA key to encrypt the password. Give the instance an ssh-rsa key.",
);

/**
 * Checks that a base64 ciphertext is exactly one RSA block for one of an instance's public keys:
 * as long as that modulus and below it. Keys that are not RSA are skipped. Each distinct key text
 * is parsed once and kept in a bounded cache, a key that cannot be read too, so a host's broken
 * key costs one log line, not one per request.
 */
export class InstanceKeys {
  readonly #keys = new Map<string, ParsedKey>();
  readonly #log: Diagnostics;

  constructor(log: Diagnostics) {
    this.#log = log;
  }

  /**
   * Throws 400 `INVALID_PASSWORD` when `value` cannot be a ciphertext for any RSA key of
   * `publicKeys` (or none of them is RSA), 500 `INTERNAL` when one of them is not a public key at
   * all. An empty list checks nothing. A value that is not base64 is left to the password format
   * check.
   */
  check(value: string, publicKeys: string | readonly string[]): void {
    const texts = typeof publicKeys === 'string' ? [publicKeys] : publicKeys;
    if (texts.length === 0) return;
    const rsaKeys: RsaPublicKeyInfo[] = [];
    for (const text of texts) {
      const parsed = this.#parsed(text);
      if (parsed.kind === 'invalid') throw internalError();
      if (parsed.kind === 'rsa') rsaKeys.push(parsed.key);
    }
    if (rsaKeys.length === 0) throw NO_RSA_KEY;
    const block = decodeCanonicalBase64(withoutLineBreaks(value));
    if (block === undefined) return;
    if (rsaKeys.some((key) => block.length === key.modulus.length && block.compare(key.modulus) < 0)) return;
    throw passwordError('INVALID_PASSWORD', mismatch(block, rsaKeys));
  }

  #parsed(publicKey: string): ParsedKey {
    const cached = this.#keys.get(publicKey);
    if (cached !== undefined) return cached;
    let parsed: ParsedKey;
    try {
      parsed = { kind: 'rsa', key: rsaPublicKeyOf(publicKey) };
    } catch (error) {
      if (error instanceof PasswordCryptoError && error.code === 'ERR_NOT_RSA_KEY') {
        parsed = OTHER;
      } else {
        parsed = INVALID;
        this.#log.error('lookupInstance resolved a publicKey that is not a public key; answered 500 (said once per key).', error);
      }
    }
    if (this.#keys.size >= CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#keys.set(publicKey, parsed);
    return parsed;
  }
}

/** Why `block` fits none of `keys`, naming the key sizes it was checked against. */
function mismatch(block: Buffer, keys: readonly RsaPublicKeyInfo[]): string {
  const sizes = [...new Set(keys.map((key) => key.bits))].sort((a, b) => a - b);
  const sized = keys.find((key) => key.modulus.length === block.length);
  const names = sizes.map((bits) => `${bits}-bit`).join(', ');
  const which = keys.length === 1 ? `this instance's ${names} key` : `any of this instance's RSA keys (${names})`;
  const why = sized
    ? `it is ${block.length} bytes, at or above the modulus`
    : `one block is as long as the key's modulus (${[...new Set(keys.map((key) => key.modulus.length))].join(' or ')} bytes) and below it; this is ${block.length} bytes`;
  return `The password is not encrypted for ${which}: ${why}.`;
}
