import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { PrivateKey as SshpkPrivateKey } from 'sshpk';
import {
  invalidKey,
  keyTypeName,
  notRsaKey,
  passphraseRequired,
  weakKey,
  wrongPassphrase,
  type PasswordCryptoError,
} from './errors';
import { pemLabel, requireRsa, requireUsableRsa } from './public-key';

const NODE_PEM_LABELS = new Set(['RSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const OTHER_TYPE_PEM_LABELS: Readonly<Record<string, string>> = {
  'EC PRIVATE KEY': 'ECDSA',
  'DSA PRIVATE KEY': 'DSA',
};
const PKCS1_ENCRYPTED_HEADER = /^Proc-Type:\s*4,ENCRYPTED/m;
const OPENSSH_PUBLIC_LINE = /^\s*(?:ssh-|ecdsa-|sk-)\S+\s+AAAA/;

let sshpkModule: typeof import('sshpk') | undefined;

/**
 * sshpk, loaded at the first OpenSSH private key: it takes about 40 ms to load, which every start
 * of the command line and every import of `/crypto` would pay for keys that never need it.
 */
function sshpk(): typeof import('sshpk') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (sshpkModule ??= require('sshpk') as typeof import('sshpk'));
}

const SUPPORTED =
  'expected a PEM private key (`BEGIN RSA PRIVATE KEY`, `BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`) ' +
  'or an OpenSSH one (`BEGIN OPENSSH PRIVATE KEY`), as `ssh-keygen` writes them.';

/**
 * Reads an RSA private key: PEM PKCS#1 or PKCS#8 (encrypted or not) through Node's crypto, OpenSSH
 * (encrypted or not) through sshpk. Throws `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`, `ERR_WEAK_KEY`,
 * `ERR_PASSPHRASE_REQUIRED` or `ERR_WRONG_PASSPHRASE`.
 */
export function loadPrivateKey(privateKey: unknown, passphrase: string | undefined): KeyObject {
  if (typeof privateKey !== 'string' && !Buffer.isBuffer(privateKey)) {
    throw invalidKey(`The private key must be a string or a Buffer: ${SUPPORTED}`);
  }
  const text = typeof privateKey === 'string' ? privateKey : privateKey.toString('utf8');
  const label = pemLabel(text);
  let key: KeyObject;
  if (label === 'OPENSSH PRIVATE KEY') key = openSshPrivateKey(text, passphrase);
  else if (label !== undefined && NODE_PEM_LABELS.has(label)) key = pemPrivateKey(text, label, passphrase);
  else throw unsupported(text, label);
  requireRsa(key);
  const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {};
  requireUsableRsa(modulusLength, publicExponent);
  requireBoundedPrivateNumbers(key, modulusLength);
  return key;
}

/**
 * Throws `ERR_WEAK_KEY` when a private number is longer than the modulus: no generator writes one,
 * and d or a CRT value (dp + k (p - 1), qi + k p, ...) still decrypts correctly while making each
 * exponentiation as slow as it is long. Checked before any exponentiation.
 */
function requireBoundedPrivateNumbers(key: KeyObject, modulusBits: number): void {
  const jwk = key.export({ format: 'jwk' });
  for (const name of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const bits = bitLengthOf(jwk[name]);
    if (bits > modulusBits) {
      throw weakKey(`its private number ${name} is ${bits} bits, longer than its ${modulusBits}-bit modulus`);
    }
  }
}

function bitLengthOf(base64url: string | undefined): number {
  const hex = Buffer.from(base64url ?? '', 'base64url').toString('hex').replace(/^0+/, '');
  return hex === '' ? 0 : (hex.length - 1) * 4 + parseInt(hex[0], 16).toString(2).length;
}

function unsupported(text: string, label: string | undefined): PasswordCryptoError {
  if (label !== undefined && label in OTHER_TYPE_PEM_LABELS) {
    return notRsaKey(OTHER_TYPE_PEM_LABELS[label], 'private');
  }
  if (label?.includes('PUBLIC KEY') || OPENSSH_PUBLIC_LINE.test(text)) {
    return invalidKey('This is a public key; decrypting needs the private key (the key file without `.pub`).');
  }
  if (text.startsWith('PuTTY-User-Key-File')) {
    return invalidKey(`This is a PuTTY key: export it with PuTTYgen (Conversions, Export OpenSSH key); ${SUPPORTED}`);
  }
  return invalidKey(`Not a private key this package reads: ${SUPPORTED}`);
}

function pemPrivateKey(text: string, label: string, passphrase: string | undefined): KeyObject {
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || PKCS1_ENCRYPTED_HEADER.test(text);
  // Decided from the PEM text, since Node versions report a missing passphrase differently.
  if (encrypted && passphrase === undefined) throw passphraseRequired();
  try {
    return createPrivateKey({ key: text, format: 'pem', ...(encrypted ? { passphrase } : {}) });
  } catch {
    // A wrong passphrase may fail the cipher's padding or, by chance, only the key's structure after it.
    if (encrypted) throw wrongPassphrase();
    throw invalidKey(`The PEM private key does not parse: check that the file is whole. ${SUPPORTED}`);
  }
}

/**
 * Reads a private key in the OpenSSH format (`BEGIN OPENSSH PRIVATE KEY`, ssh-keygen's default),
 * encrypted with a passphrase (bcrypt KDF) or not, which Node's crypto cannot parse.
 */
function openSshPrivateKey(text: string, passphrase: string | undefined): KeyObject {
  const parsed = parseOpenSsh(text, passphrase);
  if (parsed.type !== 'rsa') throw notRsaKey(keyTypeName(parsed.type), 'private');
  try {
    return createPrivateKey({ key: openSshRsaJwk(parsed), format: 'jwk' });
  } catch {
    throw invalidKey('The OpenSSH private key holds numbers that are not an RSA key: check that the file is whole.');
  }
}

function parseOpenSsh(text: string, passphrase: string | undefined): SshpkPrivateKey {
  try {
    return sshpk().parsePrivateKey(text, 'ssh');
  } catch (error) {
    if ((error as Error).name !== 'KeyEncryptedError') {
      throw invalidKey('The OpenSSH private key does not parse: check that the file is whole.');
    }
  }
  if (passphrase === undefined) throw passphraseRequired();
  try {
    return sshpk().parsePrivateKey(text, 'ssh', { passphrase });
  } catch {
    throw wrongPassphrase();
  }
}

/**
 * The JWK of an RSA key sshpk parsed from the OpenSSH format, which stores n, e, d, iqmp, p and q.
 * The CRT exponents are derived here: sshpk 1.18 computes them as zero when it converts such a
 * key to PKCS#1 or PKCS#8, which makes every CRT decryption wrong.
 */
function openSshRsaJwk(key: SshpkPrivateKey): JsonWebKey {
  const part = (name: string) => toBigInt(key.parts.find((candidate) => candidate.name === name)?.data);
  const [n, e, d, p, q, qi] = ['n', 'e', 'd', 'p', 'q', 'iqmp'].map(part);
  return {
    kty: 'RSA',
    n: base64url(n),
    e: base64url(e),
    d: base64url(d),
    p: base64url(p),
    q: base64url(q),
    dp: base64url(p > 1n ? d % (p - 1n) : 0n),
    dq: base64url(q > 1n ? d % (q - 1n) : 0n),
    qi: base64url(qi),
  };
}

function toBigInt(bytes: Buffer | undefined): bigint {
  return bytes === undefined || bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function base64url(value: bigint): string {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
}
