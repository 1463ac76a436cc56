import type { KeyObject } from 'node:crypto';
import { PasswordCryptoError } from './errors';

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/;

const KEY_TYPE_NAMES: Readonly<Record<string, string>> = {
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  ec: 'ECDSA',
  ecdsa: 'ECDSA',
  dsa: 'DSA',
  dh: 'Diffie-Hellman',
  'rsa-pss': 'RSA-PSS (signing only)',
};

/** The label of the first PEM block in `text` (`'RSA PRIVATE KEY'`), or `undefined`. */
export function pemLabel(text: string): string | undefined {
  return PEM_BEGIN.exec(text)?.[1];
}

/** A readable name of a key type as Node (`ed25519`, `ec`) or sshpk (`ecdsa`) calls it. */
export function keyTypeName(type: string): string {
  return KEY_TYPE_NAMES[type] ?? type;
}

/** The error for a valid key that is not an RSA key able to encrypt. */
export function notRsaKey(typeName: string, half: 'public' | 'private'): PasswordCryptoError {
  const advice =
    half === 'public'
      ? 'Create one with `ssh-keygen -t rsa -b 4096` and give the instance its public key.'
      : "Use the RSA private key matching the instance's public key.";
  return new PasswordCryptoError(
    'ERR_NOT_RSA_KEY',
    `This is a ${half} key of type ${typeName}; instance passwords are encrypted with RSA keys only. ${advice}`,
  );
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
