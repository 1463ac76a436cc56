import { decodeCanonicalBase64, withoutLineBreaks } from './base64';
import { rsaPublicKeyOf, type RsaPublicKeyInfo } from '../crypto/public-key';
import { internalError, passwordError } from './errors';
import type { Diagnostics } from './logging';

/** How many distinct keys are kept parsed; past it the oldest is parsed again when next seen. */
const CACHED_KEYS = 1000;

/**
 * Checks that a base64 ciphertext is exactly one RSA block for an instance's public key: as long as
 * the modulus and below it. Each distinct key text is parsed once and kept in a bounded cache, a
 * key that cannot be read too, so a host's broken key costs one log line, not one per request.
 */
export class InstanceKeys {
  readonly #keys = new Map<string, RsaPublicKeyInfo | undefined>();
  readonly #log: Diagnostics;

  constructor(log: Diagnostics) {
    this.#log = log;
  }

  /**
   * Throws 400 `INVALID_PASSWORD` when `value` cannot be a ciphertext for `publicKey`, 500
   * `INTERNAL` when `publicKey` is not an RSA public key. A value that is not base64 at all is left
   * to the password format check.
   */
  check(value: string, publicKey: string): void {
    const key = this.#parsed(publicKey);
    if (key === undefined) throw internalError();
    const block = decodeCanonicalBase64(withoutLineBreaks(value));
    if (block === undefined) return;
    if (block.length !== key.modulus.length || block.compare(key.modulus) >= 0) {
      throw passwordError(
        'INVALID_PASSWORD',
        `The password is not encrypted for this instance's ${key.bits}-bit key: a ciphertext for it is one ` +
          `${key.modulus.length}-byte block below the key's modulus, and ${
            block.length === key.modulus.length ? 'this block is at or above the modulus' : `this is ${block.length} bytes`
          }.`,
      );
    }
  }

  #parsed(publicKey: string): RsaPublicKeyInfo | undefined {
    if (this.#keys.has(publicKey)) return this.#keys.get(publicKey);
    let key: RsaPublicKeyInfo | undefined;
    try {
      key = rsaPublicKeyOf(publicKey);
    } catch (error) {
      this.#log.error("lookupInstance resolved a publicKey that is not an RSA public key; answered 500 (said once per key).", error);
    }
    if (this.#keys.size >= CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value as string);
    this.#keys.set(publicKey, key);
    return key;
  }
}
