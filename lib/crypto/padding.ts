import { OptionsError } from '../options';
import type { PasswordPadding } from './types';

const PADDINGS: readonly PasswordPadding[] = ['pkcs1', 'oaep-sha256'];

/** The padding option's value, `'pkcs1'` when absent; throws `OptionsError` for anything else. */
export function paddingOption(where: string, value: unknown): PasswordPadding {
  if (value === undefined) return 'pkcs1';
  if (PADDINGS.includes(value as PasswordPadding)) return value as PasswordPadding;
  throw new OptionsError(
    'ERR_INVALID_OPTION',
    `${where}: \`padding\` must be 'pkcs1' (the default; cloudbase-init and Nova) or 'oaep-sha256'; ` +
      `got ${JSON.stringify(value)}.`,
  );
}

/** The largest plaintext, in bytes, one block of a `keyBytes`-byte modulus holds with `padding`. */
export function maxPlaintextBytes(padding: PasswordPadding, keyBytes: number): number {
  // PKCS#1 v1.5 needs 11 bytes of padding; OAEP needs two digests (32 bytes each) and 2 more.
  return padding === 'pkcs1' ? keyBytes - 11 : keyBytes - 2 * 32 - 2;
}
