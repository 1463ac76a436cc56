/*
 * The one rule for showing text a server sent (an error message, a code, a content type), and
 * anything else from elsewhere (an unexpected error). `lib/browser/server-text.ts` keeps the same
 * rule for the browser module, which cannot import this file; `__tests__/server-text.property.test.ts`
 * keeps the two equal.
 */

/** Format characters (bidirectional overrides, isolates and marks, zero-width characters): removed. */
const FORMAT = /\p{Cf}/gu;
/** Control characters (C0, DEL, C1) and Unicode line and paragraph separators: each a space. */
const CONTROL_OR_BREAK = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
/** Any character of `FORMAT` or `CONTROL_OR_BREAK`. */
const ANY_CHANGED = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/gu;
/** The most characters (code points) of server text shown. */
export const MAX_SERVER_TEXT = 300;

/**
 * Text from a server made safe to print on a terminal: format characters removed (they reorder or
 * hide what is shown), control characters and line breaks as spaces (they move the cursor,
 * recolour or retitle the terminal), at most `MAX_SERVER_TEXT` characters, then `...`.
 */
export function cleanServerText(text: string): string {
  const flat = text.replace(FORMAT, '').replace(CONTROL_OR_BREAK, ' ');
  const characters = Array.from(flat);
  return characters.length > MAX_SERVER_TEXT ? `${characters.slice(0, MAX_SERVER_TEXT).join('')}...` : flat;
}

/** The control, format and line-break characters of `text` (those `cleanServerText` changes), as `U+XXXX`, each once. */
export function controlOrFormatCodes(text: string): string[] {
  const codes = Array.from(text.matchAll(ANY_CHANGED), ([character]) =>
    `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
  );
  return [...new Set(codes)];
}
