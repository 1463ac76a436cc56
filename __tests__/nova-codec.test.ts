import fc from 'fast-check';
import { fromSystemMetadata, toSystemMetadata } from '../lib';

describe('Nova system-metadata codec', () => {
  it("splits into password_0..password_3 chunks of 255 characters, '' for unused ones", () => {
    const value = 'a'.repeat(600);
    expect(toSystemMetadata(value)).toEqual({
      password_0: 'a'.repeat(255),
      password_1: 'a'.repeat(255),
      password_2: 'a'.repeat(90),
      password_3: '',
    });
    expect(toSystemMetadata('')).toEqual({ password_0: '', password_1: '', password_2: '', password_3: '' });
  });

  it('never splits a code point', () => {
    const value = `${'a'.repeat(254)}😀b`;
    const metadata = toSystemMetadata(value);
    expect(metadata.password_0).toBe(`${'a'.repeat(254)}😀`);
    expect(metadata.password_1).toBe('b');
  });

  it('refuses values over 1020 characters', () => {
    expect(() => toSystemMetadata('a'.repeat(1021))).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => toSystemMetadata('😀'.repeat(1020))).not.toThrow();
  });

  it('joins password_* keys in order, ignores other keys, and returns undefined when empty', () => {
    expect(fromSystemMetadata({ password_1: 'b', image_base: 'x', password_0: 'a', password_2: null })).toBe('ab');
    expect(fromSystemMetadata({ password_0: '', password_1: '', password_2: '', password_3: '' })).toBeUndefined();
    expect(fromSystemMetadata({})).toBeUndefined();
  });

  it('round-trips any value up to 1020 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1020 }), (value) => {
        const metadata = toSystemMetadata(value);
        expect(Object.values(metadata).every((chunk) => Array.from(chunk).length <= 255)).toBe(true);
        expect(fromSystemMetadata(metadata)).toBe(value === '' ? undefined : value);
      }),
      { numRuns: 500 },
    );
  });
});
