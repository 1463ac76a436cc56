/** Control characters (C0, DEL, C1) other than tab, LF and CR: no password holds them. */
const FORBIDDEN_CONTROL = /[^\P{Cc}\t\n\r]/u;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The password a decrypted block holds, or `undefined` when the block cannot be one (empty, not
 * UTF-8, or control characters): what a wrong key yields when, by chance, its padding looks right.
 */
export function passwordFromBytes(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return text === '' || FORBIDDEN_CONTROL.test(text) ? undefined : text;
}
