import { PasswordCryptoError, decryptPassword, type PasswordPadding } from '../crypto';
import { CliError, type Values } from './args';
import { passphraseFromFileOrEnv, promptHidden } from './input';
import { PASSPHRASE_ENV } from './names';

const KEY_ERRORS = new Set(['ERR_INVALID_KEY', 'ERR_NOT_RSA_KEY', 'ERR_WRONG_PASSPHRASE']);

/** A crypto failure as a CliError, naming the key file when the key is at fault; any other error unchanged. */
export function cryptoFailure(error: unknown, keyPath: string): unknown {
  if (!(error instanceof PasswordCryptoError)) return error;
  return new CliError(KEY_ERRORS.has(error.code) ? `key file '${keyPath}': ${error.message}` : error.message);
}

/** Decrypts with the key file, asking for its passphrase only when the key turns out encrypted. */
export async function decryptWithKeyFile(
  ciphertext: string,
  keyPath: string,
  key: Buffer,
  values: Values,
  padding: PasswordPadding,
  canPrompt: boolean,
): Promise<string> {
  const passphrase = passphraseFromFileOrEnv(values);
  try {
    return decryptPassword(ciphertext, key, { padding, passphrase });
  } catch (error) {
    if (!(error instanceof PasswordCryptoError && error.code === 'ERR_PASSPHRASE_REQUIRED')) {
      throw cryptoFailure(error, keyPath);
    }
  }
  if (!canPrompt) {
    throw new CliError(
      `key file '${keyPath}' is encrypted: pass --passphrase-file FILE or set ${PASSPHRASE_ENV} ` +
        '(stdin is not a terminal, so there is no prompt).',
    );
  }
  const typed = await promptHidden(`Passphrase for ${keyPath}: `);
  try {
    return decryptPassword(ciphertext, key, { padding, passphrase: typed });
  } catch (error) {
    throw cryptoFailure(error, keyPath);
  }
}
