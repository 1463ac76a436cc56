import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { OptionsError } from './options';
import type { EncryptionKey } from '../types';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const MAKE_ONE = 'make one with `openssl rand -base64 32`';

interface Key {
  readonly id: string;
  readonly bytes: Buffer;
}

/** A key's id in stored values: not secret, derived from the key so every process agrees. */
function keyId(bytes: Buffer): string {
  return createHash('sha256').update('express-metadata-password reset key\n').update(bytes).digest('base64url').slice(0, 8);
}

function parseKey(where: string, key: unknown): Key {
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(key)) bytes = key.length === KEY_BYTES ? Buffer.from(key) : undefined;
  else if (typeof key === 'string' && HEX_KEY.test(key)) bytes = Buffer.from(key, 'hex');
  else if (typeof key === 'string' && BASE64_KEY.test(key.trim())) bytes = Buffer.from(key.trim(), 'base64');
  if (bytes?.length !== KEY_BYTES) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${where}: \`encryptionKey\` must be 32 bytes: a Buffer, 64 hex digits or base64 of 32 bytes (${MAKE_ONE}), or an array of them, the current key first.`,
    );
  }
  return { id: keyId(bytes), bytes };
}

/**
 * Encrypts reset passwords at rest: AES-256-GCM with the instance id as additional data (a value
 * moved to another instance does not decrypt), a fresh 96-bit IV per value, and the key's id in the
 * value. New values use the first key; any key decrypts, so keys rotate as `[new, old]`.
 */
export class ResetCipher {
  readonly #keys: readonly Key[];

  /** `keys` as the `encryptionKey` option takes them; throws an `OptionsError` naming `where`. */
  constructor(where: string, keys: EncryptionKey | readonly EncryptionKey[]) {
    const list = Array.isArray(keys) ? (keys as readonly unknown[]) : [keys];
    if (list.length === 0) {
      throw new OptionsError('ERR_INVALID_OPTION', `${where}: \`encryptionKey\` must not be an empty array; ${MAKE_ONE}.`);
    }
    this.#keys = list.map((key) => parseKey(where, key));
  }

  /** A cipher with a random key of this process's own, for a store that lives in this process. */
  static ephemeral(): ResetCipher {
    return new ResetCipher('ResetCipher', randomBytes(KEY_BYTES));
  }

  /** `v1.<key id>.<iv>.<ciphertext and tag>`, base64url parts. */
  seal(instanceId: string, password: string): string {
    const key = this.#keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key.bytes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(instanceId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(password, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, key.id, iv.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** The password in `value`, or `undefined` when no key decrypts it for this instance. */
  open(instanceId: string, value: string): string | undefined {
    const [version, id, ivText, sealedText, ...rest] = value.split('.');
    if (version !== VERSION || rest.length > 0 || ivText === undefined || sealedText === undefined) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const sealed = Buffer.from(sealedText, 'base64url');
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) return undefined;
    // The id picks the key first; a value whose id matches no key is still tried with each.
    const keys = [...this.#keys].sort((a, b) => Number(b.id === id) - Number(a.id === id));
    for (const key of keys) {
      try {
        const decipher = createDecipheriv(ALGORITHM, key.bytes, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(instanceId, 'utf8'));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        // Not this key, or not this instance's value.
      }
    }
    return undefined;
  }
}
