/*
 * The one rule for showing text a server sent (an error message, a code, a content type): the
 * command line's `lib/cli/server-text.ts` keeps the same rule. This copy is the one allowed
 * duplicate: the browser module has no runtime dependencies and cannot import the Node code, and
 * `__tests__/server-text.property.test.ts` keeps the two equal.
 */

/** Format characters (bidirectional overrides, isolates and marks, zero-width characters): removed. */
const FORMAT = /\p{Cf}/gu;
/** Control characters (C0, DEL, C1) and Unicode line and paragraph separators: each a space. */
const CONTROL_OR_BREAK = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
/** The most characters (code points) of server text shown. */
export const MAX_SERVER_TEXT = 300;

/**
 * Text from a server made safe to show: format characters removed (they reorder or hide what is
 * shown), control characters and line breaks as spaces (on a terminal they move the cursor,
 * recolour or retitle it), at most `MAX_SERVER_TEXT` characters, then `...`.
 */
export function cleanServerText(text: string): string {
  const flat = text.replace(FORMAT, '').replace(CONTROL_OR_BREAK, ' ');
  const characters = Array.from(flat);
  return characters.length > MAX_SERVER_TEXT ? `${characters.slice(0, MAX_SERVER_TEXT).join('')}...` : flat;
}
