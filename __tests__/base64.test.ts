import fc from 'fast-check';
import { canonicalBase64Length, decodeCanonicalBase64 } from '../lib/core/base64';

/** Canonical base64 as Node defines it: the text is exactly what its bytes encode to. */
function nodeCanonicalLength(text: string): number | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes.length : undefined;
}

const ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n'];

describe('canonical base64', () => {
  it('agrees with a Node round trip on encodings and on altered ones', () => {
    const encoded = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64'));
    const altered = fc
      .tuple(encoded, fc.nat(), fc.constantFrom(...ALPHABET))
      .map(([text, at, character]) => (text === '' ? character : text.slice(0, at % text.length) + character + text.slice((at % text.length) + 1)));
    const random = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 16 });
    fc.assert(
      // A predicate, not expect(): fast-check prints the failing text, and 20,000 expect() calls
      // cost more than the property itself.
      fc.property(fc.oneof(encoded, altered, random), (text) => {
        const length = nodeCanonicalLength(text);
        return (
          canonicalBase64Length(text) === length &&
          decodeCanonicalBase64(text)?.toString('base64') === (length === undefined ? undefined : text)
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it.each(['QQ==', 'QR==', 'QUI=', 'QUJ=', 'QUJD', 'QQ', 'QQ=', 'Q===', 'QUJD\n'])('%j', (text) => {
    expect(canonicalBase64Length(text)).toBe(nodeCanonicalLength(text));
  });
});
