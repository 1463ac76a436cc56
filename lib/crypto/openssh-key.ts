import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import sshpk from 'sshpk';
import { invalidKey, keyTypeName, notRsaKey, passphraseRequired, wrongPassphrase } from './key-errors';

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function base64url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
}

/**
 * The JWK of an RSA key sshpk parsed from the OpenSSH format, which stores n, e, d, iqmp, p and q.
 * The CRT exponents are derived here: sshpk 1.18 computes them as zero when it converts such a
 * key to PKCS#1 or PKCS#8, which makes every CRT decryption wrong.
 */
function rsaJwk(key: sshpk.PrivateKey): JsonWebKey {
  const part = (name: string) =>
    toBigInt(key.parts.find((candidate) => candidate.name === name)?.data ?? Buffer.alloc(0));
  const [n, e, d, p, q, qi] = ['n', 'e', 'd', 'p', 'q', 'iqmp'].map(part);
  return {
    kty: 'RSA',
    n: base64url(n),
    e: base64url(e),
    d: base64url(d),
    p: base64url(p),
    q: base64url(q),
    dp: base64url(d % (p - 1n)),
    dq: base64url(d % (q - 1n)),
    qi: base64url(qi),
  };
}

function parse(text: string, passphrase: string | undefined): sshpk.PrivateKey {
  try {
    return sshpk.parsePrivateKey(text, 'ssh');
  } catch (error) {
    if ((error as Error).name !== 'KeyEncryptedError') {
      throw invalidKey('The OpenSSH private key does not parse: check that the file is whole.');
    }
  }
  if (passphrase === undefined) throw passphraseRequired();
  try {
    return sshpk.parsePrivateKey(text, 'ssh', { passphrase });
  } catch {
    throw wrongPassphrase();
  }
}

/**
 * Reads an RSA private key in the OpenSSH format (`BEGIN OPENSSH PRIVATE KEY`, ssh-keygen's
 * default), encrypted with a passphrase (bcrypt KDF) or not.
 */
export function openSshPrivateKey(text: string, passphrase: string | undefined): KeyObject {
  const parsed = parse(text, passphrase);
  if (parsed.type !== 'rsa') throw notRsaKey(keyTypeName(parsed.type), 'private');
  return createPrivateKey({ key: rsaJwk(parsed), format: 'jwk' });
}
