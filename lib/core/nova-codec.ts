import { passwordError } from './errors';

/** Nova keeps a password in 4 system-metadata items of at most 255 characters each. */
const CHUNKS = 4;
const CHUNK_LENGTH = 255;
const KEY_PREFIX = 'password_';

/** Nova's system-metadata items for a password: `password_0` to `password_3`. */
export type NovaPasswordMetadata = Record<`password_${0 | 1 | 2 | 3}`, string>;

/**
 * Splits a value into Nova's `password_0..password_3` system-metadata items of at most 255
 * characters (code points, never splitting one), `''` for unused items. Throws 413
 * `PAYLOAD_TOO_LARGE` for a value over 1020 characters, which Nova's schema cannot hold.
 */
export function toSystemMetadata(value: string): NovaPasswordMetadata {
  const codePoints = Array.from(value);
  if (codePoints.length > CHUNKS * CHUNK_LENGTH) {
    throw passwordError(
      'PAYLOAD_TOO_LARGE',
      `The value is ${codePoints.length} characters; Nova's system metadata holds ${CHUNKS * CHUNK_LENGTH}.`,
    );
  }
  const metadata: Record<string, string> = {};
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    metadata[`${KEY_PREFIX}${chunk}`] = codePoints.slice(chunk * CHUNK_LENGTH, (chunk + 1) * CHUNK_LENGTH).join('');
  }
  return metadata as NovaPasswordMetadata;
}

/**
 * Joins the `password_*` items of Nova's system metadata in key order, as Nova does; `undefined`
 * when the result is empty. Other keys are ignored.
 */
export function fromSystemMetadata(metadata: Readonly<Record<string, string | null | undefined>>): string | undefined {
  const value = Object.keys(metadata)
    .filter((key) => key.startsWith(KEY_PREFIX))
    .sort()
    .map((key) => metadata[key] ?? '')
    .join('');
  return value === '' ? undefined : value;
}
