import { OptionsError } from '../core/options';

/**
 * RSA encryption padding.
 * - `'pkcs1'`: RSAES-PKCS1-v1_5, what cloudbase-init and Nova use (the default).
 * - `'oaep-sha256'`: RSAES-OAEP with SHA-256 and MGF1-SHA256, for agents that choose it.
 */
export type PasswordPadding = 'pkcs1' | 'oaep-sha256';

/** Every padding, the default first: the one list the options and the command line check against. */
export const PASSWORD_PADDINGS: readonly PasswordPadding[] = ['pkcs1', 'oaep-sha256'];

/** Whether `value` names a padding. */
export function isPasswordPadding(value: unknown): value is PasswordPadding {
  return PASSWORD_PADDINGS.includes(value as PasswordPadding);
}

/** The padding option's value, `'pkcs1'` when absent; throws `OptionsError` for anything else. */
export function paddingOption(where: string, value: unknown): PasswordPadding {
  if (value === undefined) return PASSWORD_PADDINGS[0];
  if (isPasswordPadding(value)) return value;
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
