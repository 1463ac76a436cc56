/** Bytes of nonzero padding PKCS#1 v1.5 requires at least (RFC 8017, 7.2.2). */
const MIN_PADDING_STRING = 8;
/** The earliest index of the 0x00 separator: 0x00, 0x02, then at least 8 padding bytes. */
const FIRST_SEPARATOR_INDEX = 2 + MIN_PADDING_STRING;

/** 1 when `byte` (0 to 255) is zero, else 0, without a branch. */
function isZero(byte: number): number {
  return ((byte | -byte) >>> 31) ^ 1;
}

/**
 * RSAES-PKCS1-v1_5 decoding (RFC 8017, 7.2.2) of one raw RSA block, as Node's `privateDecrypt`
 * with `RSA_NO_PADDING` returns it: the message, or `undefined` unless the block reads 0x00 0x02,
 * at least 8 nonzero bytes, 0x00, message. Every byte is read, with no branch on its value, so the
 * time taken does not tell where a bad block went wrong (Bleichenbacher's oracle needs that); only
 * the final outcome, which the caller reports anyway, is a branch.
 */
export function decodePkcs1v15(block: Uint8Array): Uint8Array | undefined {
  let bad = block[0] | (block[1] ^ 0x02);
  let separator = 0;
  let searching = 1;
  for (let index = 2; index < block.length; index++) {
    const found = isZero(block[index]) & searching;
    const mask = -found;
    separator = (separator & ~mask) | (index & mask);
    searching &= found ^ 1;
  }
  bad |= searching;
  bad |= ((separator - FIRST_SEPARATOR_INDEX) >>> 31) & 1;
  return bad === 0 ? block.subarray(separator + 1) : undefined;
}
