import type { KeyObject } from 'node:crypto';
import { keyTypeName, notRsaKey } from './key-errors';

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/;

/** The label of the first PEM block in `text` (`'RSA PRIVATE KEY'`), or `undefined`. */
export function pemLabel(text: string): string | undefined {
  return PEM_BEGIN.exec(text)?.[1];
}

/** Throws `ERR_NOT_RSA_KEY` unless `key` is a plain RSA key. */
export function requireRsa(key: KeyObject): void {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type !== 'rsa') throw notRsaKey(keyTypeName(type), key.type === 'private' ? 'private' : 'public');
}

/** The size in bytes of an RSA key's modulus: the length of every ciphertext block. */
export function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}
