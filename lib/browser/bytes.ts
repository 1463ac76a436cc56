const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const WHITESPACE = /\s+/g;

/**
 * The bytes of `text` when it is canonical base64 once whitespace is removed (standard alphabet,
 * padded, no stray bits after the last byte), else `undefined`.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(WHITESPACE, '');
  if (!PADDED_BASE64.test(compact)) return undefined;
  const binary = atob(compact);
  if (btoa(binary) !== compact) return undefined;
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Unpadded base64url, as JWK writes big integers. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The unsigned big-endian integer `bytes` hold. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt(`0x${hex}`);
}

/** `value` as big-endian bytes: exactly `length` of them when given, else as few as it needs. */
export function bigIntToBytes(value: bigint, length?: number): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (value === 0n) hex = '';
  const size = length ?? Math.max(hex.length / 2, 1);
  const bytes = new Uint8Array(size);
  const offset = size - hex.length / 2;
  if (offset < 0) throw new RangeError(`${value} does not fit in ${size} bytes.`);
  for (let index = 0; index < hex.length / 2; index += 1) {
    bytes[offset + index] = parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/** The number of bits of a positive integer. */
export function bitLength(value: bigint): number {
  return value.toString(2).length;
}
