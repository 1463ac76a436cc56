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

/** The largest modulus read, in bits: larger "keys" are damaged files or attempts to hang the page. */
export const MAX_MODULUS_BITS = 16384;

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
 * Whether the parameters make one RSA key: n = p q, and the CRT parameters match d (checked by a
 * round trip of a fixed value through the public and the private operation).
 */
export function isConsistent(key: RsaPrivateKey): boolean {
  const { n, e, p, q } = key;
  if (n < 2n ** 511n || bitLength(n) > MAX_MODULUS_BITS || e < 3n || p < 2n || q < 2n || p * q !== n) return false;
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
