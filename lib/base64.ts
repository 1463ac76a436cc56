const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of `text` when it is canonical base64 (standard alphabet, padded, no stray bits after
 * the last byte), else `undefined`. The one home of this rule: the guest router's `'base64'` format,
 * the crypto helpers and the stores all ask here.
 */
export function decodeCanonicalBase64(text: string): Buffer | undefined {
  if (!PADDED_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
