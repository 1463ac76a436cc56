import { bigIntToBytes, bitLength, bytesToBigInt } from './bytes.js';

/** An RSA private key with its CRT parameters, as PKCS#1 lists them. */
export interface RsaPrivateKey {
  readonly n: bigint;
  readonly e: bigint;
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  /** d mod (p - 1) */
  readonly dp: bigint;
  /** d mod (q - 1) */
  readonly dq: bigint;
  /** q^-1 mod p */
  readonly qi: bigint;
}

/** The smallest modulus accepted, in bits: below it, factoring the key is within reach. */
export const MIN_MODULUS_BITS = 1024;
/** The largest modulus read, in bits: larger "keys" are damaged files or attempts to hang the page. */
export const MAX_MODULUS_BITS = 16384;
/** The most bits a public exponent may have: generators pick 65537 (17 bits). */
export const MAX_EXPONENT_BITS = 256;

/** The size in bytes of the key's modulus: the length of every ciphertext block. */
export function modulusBytes(key: RsaPrivateKey): number {
  return Math.ceil(bitLength(key.n) / 8);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = base % modulus;
  let rest = exponent;
  while (rest > 0n) {
    if ((rest & 1n) === 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
    rest >>= 1n;
  }
  return result;
}

/**
 * Why the key's numbers protect nothing or would make the page's arithmetic slow, or `undefined`
 * when they are fit to compute with: a modulus under 1024 or over 16384 bits, a public exponent
 * under 3, even, or of 2^256 or more, or a private number (d, p, q, dp, dq, qi) longer than the
 * modulus. Such a number (e + k lambda(n), dp + k (p - 1), ...) still decrypts correctly, but each
 * exponentiation takes as long as it is long: the same rules as `/crypto`, checked before any.
 */
export function weakness(key: RsaPrivateKey): string | undefined {
  const bits = bitLength(key.n);
  if (bits < MIN_MODULUS_BITS) return `its modulus is ${bits} bits; under ${MIN_MODULUS_BITS} bits it can be factored and the password read`;
  if (bits > MAX_MODULUS_BITS) return `its modulus is ${bits} bits, more than the ${MAX_MODULUS_BITS} this module computes with`;
  if (key.e < 3n) return `its public exponent is ${key.e}, which leaves the password readable in the ciphertext`;
  if (key.e % 2n === 0n) return 'its public exponent is even, which no valid RSA key has';
  if (key.e >> BigInt(MAX_EXPONENT_BITS) > 0n) {
    return `its public exponent is ${bitLength(key.e)} bits, 2^${MAX_EXPONENT_BITS} or more, which makes every use of the key slow (generators use 65537)`;
  }
  for (const name of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const length = bitLength(key[name]);
    if (length > bits) return `its private number ${name} is ${length} bits, longer than its ${bits}-bit modulus`;
  }
  return undefined;
}

/**
 * Whether the parameters make one RSA key: n = p q, and the CRT parameters match d (checked by a
 * round trip of a fixed value through the public and the private operation). Call it only on a key
 * `weakness` found nothing in: it exponentiates.
 */
export function isConsistent(key: RsaPrivateKey): boolean {
  const { n, e, p, q } = key;
  if (p < 2n || q < 2n || p * q !== n) return false;
  const probe = 0x1234567n % n;
  return crt(key, modPow(probe, e, n)) === probe;
}

function crt(key: RsaPrivateKey, c: bigint): bigint {
  const { p, q, dp, dq, qi } = key;
  const m1 = modPow(c, dp, p);
  const m2 = modPow(c, dq, q);
  const h = (((m1 - m2) % p) + p) % p;
  return m2 + ((qi * h) % p) * q;
}

/**
 * The raw RSA private operation on one block (RSADP with the Chinese remainder theorem), or
 * `undefined` when the block is not an integer below the modulus. The result is checked with the
 * public exponent, so a damaged key never yields a wrong block silently.
 */
export function rsaDecryptBlock(key: RsaPrivateKey, block: Uint8Array): Uint8Array | undefined {
  const c = bytesToBigInt(block);
  if (c >= key.n) return undefined;
  const m = crt(key, c);
  if (modPow(m, key.e, key.n) !== c) return undefined;
  return bigIntToBytes(m, modulusBytes(key));
}
