import fc from 'fast-check';
import { cleanServerText as cleanInBrowser, MAX_SERVER_TEXT as MAX_IN_BROWSER } from '../lib/browser/server-text';
import { cleanServerText as cleanInCli, MAX_SERVER_TEXT as MAX_IN_CLI } from '../lib/cli/server-text';

// Server text is cleaned by one rule, kept in two files: the command line's (Node) and the browser
// module's copy (which has no dependencies and cannot import the Node code). This suite keeps the
// copies equal and states the rule once.

/** Characters the rule is about, mixed densely into the generated text. */
const TRICKY = [
  '\u0000', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b',
  '\u00ad', '\u061c', '\u200b', '\u200d', '\u200e', '\u200f', '\u2028', '\u2029', '\u202a', '\u202e',
  '\u2066', '\u2069', '\ufeff', '\ufff9', '\u{e0001}', '\u{1d173}', 'é', '日', '🔑', ' ',
];

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 400 }).map((parts) => parts.join('')),
);

test('the command line and the browser module clean server text alike', () => {
  expect(MAX_IN_BROWSER).toBe(MAX_IN_CLI);
  fc.assert(
    fc.property(text, (input) => {
      expect(cleanInBrowser(input)).toBe(cleanInCli(input));
    }),
    { numRuns: 2000 },
  );
});

test('the rule: no control, format or line-break character left, at most 300 characters and "..."', () => {
  fc.assert(
    fc.property(text, (input) => {
      const shown = cleanInCli(input);
      expect(shown).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
      const length = Array.from(shown).length;
      expect(length).toBeLessThanOrEqual(MAX_IN_CLI + 3);
      if (length > MAX_IN_CLI) expect(shown.endsWith('...')).toBe(true);
    }),
    { numRuns: 2000 },
  );
  expect(cleanInCli('Real\rFake\u202Egnp.exe\u2066!')).toBe('Real Fakegnp.exe!');
});
