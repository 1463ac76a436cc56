import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeCanonicalBase64 } from '../core/base64';
import { invalidKey, keyTypeName, notRsaKey, weakKey } from './errors';

/*
 * RSA public keys, and the rules every RSA key must pass, public or private. Nothing here loads
 * sshpk: an `ssh-rsa` line is three length-prefixed fields, read below, so the request path can
 * ask `rsaPublicKeyOf` without paying for it.
 */

/** The smallest modulus accepted: below it, factoring the key is within reach. */
export const MIN_RSA_BITS = 1024;
/** The largest modulus accepted: OpenSSL computes with nothing larger. */
export const MAX_RSA_BITS = 16384;
/** Keys under this many bits still work, but are weak (NIST SP 800-131A retired them after 2013). */
export const STRONG_RSA_BITS = 2048;
/**
 * The most bits a public exponent may have: generators pick 65537 (17 bits); a larger one, such as
 * e + k * lambda(n), still works but makes every exponentiation as slow as its length.
 */
export const MAX_EXPONENT_BITS = 256;

const PUBLIC_PEM_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);
const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/;
const OPENSSH_KEY_TYPE = /^(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\.com)$/;

const SUPPORTED =
  'expected an `ssh-rsa AAAA...` line (as in authorized_keys or a `.pub` file) or a PEM public key ' +
  '(`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).';

/** An RSA public key's modulus and exponent, big-endian, without leading zero bytes. */
interface RsaNumbers {
  readonly n: Buffer;
  readonly e: Buffer;
}

/** What `rsaPublicKeyOf` tells of a key: its size, and the modulus a ciphertext must stay below. */
export interface RsaPublicKeyInfo {
  /** The modulus length in bits (2048 for `ssh-keygen -t rsa -b 2048`). */
  readonly bits: number;
  /** The modulus, big-endian, without a leading zero byte: `Math.ceil(bits / 8)` bytes. */
  readonly modulus: Buffer;
}

/** The label of the first PEM block in `text` (`'RSA PRIVATE KEY'`), or `undefined`. */
export function pemLabel(text: string): string | undefined {
  return PEM_BEGIN.exec(text)?.[1];
}

/** Throws `ERR_NOT_RSA_KEY` unless `key` is a plain RSA key. */
export function requireRsa(key: KeyObject): void {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type !== 'rsa') throw notRsaKey(keyTypeName(type), key.type === 'private' ? 'private' : 'public');
}

/**
 * Throws `ERR_WEAK_KEY` for RSA numbers that protect nothing or cannot be computed with: a modulus
 * under 1024 bits (factorable) or over 16384 (OpenSSL refuses it), a public exponent under 3 (1
 * leaves the password in clear), even (no valid RSA key has one), or of 2^256 or more (it works,
 * but each exponentiation takes as long as it is long: a file can make it minutes).
 */
export function requireUsableRsa(bits: number, exponent: bigint): void {
  if (bits < MIN_RSA_BITS) {
    throw weakKey(`its modulus is ${bits} bits; under ${MIN_RSA_BITS} bits it can be factored and the password read`);
  }
  if (bits > MAX_RSA_BITS) {
    throw weakKey(`its modulus is ${bits} bits, more than the ${MAX_RSA_BITS} that OpenSSL computes with`);
  }
  if (exponent < 3n) {
    throw weakKey(`its public exponent is ${exponent}, which leaves the password readable in the ciphertext`);
  }
  if (exponent % 2n === 0n) throw weakKey('its public exponent is even, which no valid RSA key has');
  if (exponent >> BigInt(MAX_EXPONENT_BITS) > 0n) {
    throw weakKey(
      `its public exponent is ${exponent.toString(2).length} bits, 2^${MAX_EXPONENT_BITS} or more, ` +
        'which makes every use of the key slow (generators use 65537)',
    );
  }
}

/** The size in bytes of an RSA key's modulus: the length of every ciphertext block. */
export function modulusBytes(key: KeyObject): number {
  return Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
}

/**
 * Reads an RSA public key from an OpenSSH line or PEM text, refusing keys that protect nothing.
 * Throws `ERR_INVALID_KEY` for anything else (a private key included), `ERR_NOT_RSA_KEY` for a key
 * of another type and `ERR_WEAK_KEY` for numbers no password should be encrypted with.
 */
export function loadPublicKey(publicKey: unknown): KeyObject {
  const { n, e } = rsaNumbers(publicKey);
  requireUsableRsa(bitLength(n), BigInt(`0x${e.toString('hex')}`));
  const jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw invalidKey(`The RSA public key's numbers are not a key OpenSSL accepts. ${SUPPORTED}`);
  }
}

/**
 * The size and modulus of an RSA public key (an `ssh-rsa` line, or PEM SPKI or PKCS#1), for checking
 * that a ciphertext is one block for it. Says nothing of the key's strength (`encryptPassword`
 * judges that). Throws `PasswordCryptoError` (`ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`) for anything
 * else. Internal: not exported from `/crypto`.
 */
export function rsaPublicKeyOf(publicKey: string): RsaPublicKeyInfo {
  const { n } = rsaNumbers(publicKey);
  return { bits: bitLength(n), modulus: n };
}

function rsaNumbers(publicKey: unknown): RsaNumbers {
  if (typeof publicKey !== 'string') {
    throw invalidKey(`The public key must be a string: ${SUPPORTED}`);
  }
  const label = pemLabel(publicKey);
  if (label?.endsWith('PRIVATE KEY')) {
    throw invalidKey(
      'This is a private key; encrypting needs the public key: the `ssh-rsa` line of the `.pub` file ' +
        "or a PEM public key. The private key stays on the owner's side.",
    );
  }
  return label === undefined ? fromOpenSshLine(publicKey) : fromPem(publicKey, label);
}

function fromPem(text: string, label: string): RsaNumbers {
  if (!PUBLIC_PEM_LABELS.has(label)) throw invalidKey(`This PEM block is a \`${label}\`; ${SUPPORTED}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: text, format: 'pem' });
  } catch {
    throw invalidKey(`The PEM public key does not parse: check that it was copied whole. ${SUPPORTED}`);
  }
  requireRsa(key);
  const jwk = key.export({ format: 'jwk' });
  const [n, e] = [jwk.n, jwk.e].map((value) => withoutLeadingZeros(Buffer.from(value ?? '', 'base64url')));
  return { n, e };
}

function fromOpenSshLine(text: string): RsaNumbers {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (lines.length > 1) {
    throw invalidKey(
      `The text holds ${lines.length} lines; pass exactly one public key, the one whose private key the owner holds.`,
    );
  }
  const [type = '', blob = ''] = (lines[0] ?? '').trim().split(/\s+/);
  if (type.endsWith('-cert-v01@openssh.com')) {
    throw invalidKey('This is an OpenSSH certificate; pass the public key itself (the `.pub` file of the key).');
  }
  if (type !== 'ssh-rsa') {
    if (OPENSSH_KEY_TYPE.test(type)) throw notRsaKey(type, 'public');
    throw invalidKey(`Not a public key this package reads: ${SUPPORTED}`);
  }
  const numbers = sshRsaBlob(decodeCanonicalBase64(blob));
  if (numbers === undefined) {
    throw invalidKey('The `ssh-rsa` line does not parse: copy the whole line from the `.pub` file.');
  }
  return numbers;
}

/**
 * The numbers of an `ssh-rsa` key blob (RFC 4253 section 6.6: string "ssh-rsa", mpint e, mpint n,
 * nothing after), or `undefined` when the blob is anything else.
 */
function sshRsaBlob(blob: Buffer | undefined): RsaNumbers | undefined {
  if (blob === undefined) return undefined;
  const fields: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length && fields.length < 3) {
    if (offset + 4 > blob.length) return undefined;
    const end = offset + 4 + blob.readUInt32BE(offset);
    if (end > blob.length) return undefined;
    fields.push(blob.subarray(offset + 4, end));
    offset = end;
  }
  if (offset !== blob.length || fields.length !== 3 || fields[0].toString('latin1') !== 'ssh-rsa') return undefined;
  const [e, n] = [fields[1], fields[2]].map(positiveMpint);
  return e === undefined || n === undefined ? undefined : { n, e };
}

/** The magnitude of a positive SSH mpint, without leading zeros; `undefined` for zero or a negative one. */
function positiveMpint(bytes: Buffer): Buffer | undefined {
  if (bytes.length === 0 || (bytes[0] & 0x80) !== 0) return undefined;
  const magnitude = withoutLeadingZeros(bytes);
  return magnitude.length === 0 ? undefined : magnitude;
}

function withoutLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

function bitLength(bytes: Buffer): number {
  return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]));
}
