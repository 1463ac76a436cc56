const LINE_BREAKS = /[\r\n]/g;
const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The 6-bit value of a base64 character of the standard alphabet. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z: 26-51
  if (code >= 65) return code - 65; // A-Z: 0-25
  if (code >= 48) return code + 4; // 0-9: 52-61
  return code === 43 ? 62 : 63; // '+', '/'
}

/**
 * The number of bytes `text` decodes to when it is canonical base64 (standard alphabet, padded, no
 * stray bits after the last byte), else `undefined`; without decoding it. The one home of this rule:
 * the guest router's `'base64'` format, the crypto helpers and the stores all ask here.
 */
export function canonicalBase64Length(text: string): number | undefined {
  if (!PADDED_BASE64.test(text)) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  // The last character before the padding holds 4 (one '=') or 2 (two) bits past the last byte.
  if (padding > 0 && (sextet(text.charCodeAt(text.length - padding - 1)) & (padding === 2 ? 0x0f : 0x03)) !== 0) {
    return undefined;
  }
  return (text.length / 4) * 3 - padding;
}

/** The bytes of `text` when it is canonical base64 (`canonicalBase64Length`), else `undefined`. */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  return canonicalBase64Length(text) === undefined ? undefined : Buffer.from(text, 'base64');
}

/** `text` without CR and LF: agents may wrap base64, and the `'base64'` format ignores the breaks. */
export function withoutLineBreaks(text: string): string {
  return text.replace(LINE_BREAKS, '');
}
