import { PasswordCryptoError, decryptPassword, encryptPassword, type PasswordPadding } from '../crypto';
import { STRONG_RSA_BITS, rsaPublicKeyOf } from '../crypto/public-key';
import { paddingValue, parseCommand, required, requiredList, timeoutValue, waitValue, type Values } from './args';
import { inputOrStdin, passphraseFromFileOrEnv, promptHidden, readInputFile, withoutTrailingNewline } from './input';
import { fetchCiphertext, passwordUrl, tokenFrom } from './owner-api';
import { CliError, PASSPHRASE_ENV, PROGRAM, usageError, warn, type ProgramIo } from './program';
import { controlOrFormatCodes } from './server-text';

/* Each command resolves the text to print on stdout, or throws a CliError. */

export async function runEncrypt(io: ProgramIo, args: string[]): Promise<string> {
  const { values, input } = parseCommand('encrypt', args, {
    'public-key': { type: 'string' },
    padding: { type: 'string' },
  });
  const keyPath = required(values, 'public-key', 'encrypt');
  const padding = paddingValue(values, 'encrypt');
  const publicKey = readInputFile(io, keyPath, 'public key file').toString('utf8');
  const fromStdin = input === undefined || input === '-';
  const text = await inputOrStdin(io, input, 'password', 'encrypt');
  const password = fromStdin ? withoutTrailingNewline(text) : text;
  let ciphertext: string;
  try {
    ciphertext = encryptPassword(password, publicKey, { padding });
  } catch (error) {
    throw cryptoFailure(error, keyPath);
  }
  warnIfWeak(io, rsaPublicKeyOf(publicKey).bits, keyPath);
  return ciphertext;
}

export async function runDecrypt(io: ProgramIo, args: string[]): Promise<string> {
  const { values, input } = parseCommand('decrypt', args, {
    key: { type: 'string', multiple: true },
    'passphrase-file': { type: 'string' },
    padding: { type: 'string' },
    raw: { type: 'boolean' },
  });
  const keyPaths = requiredList(values, 'key', 'decrypt');
  const padding = paddingValue(values, 'decrypt');
  const keys = keyPaths.map((keyPath) => ({ keyPath, key: readInputFile(io, keyPath, 'key file', 'secret') }));
  const readsStdin = input === undefined || input === '-';
  const ciphertext = await inputOrStdin(io, input, 'ciphertext', 'decrypt');
  const canPrompt = !readsStdin && io.stdin.isTTY === true;
  return passwordToPrint(await decryptWithKeyFiles(io, ciphertext, keys, values, padding, canPrompt), values);
}

export async function runGet(io: ProgramIo, args: string[]): Promise<string> {
  const { values, input } = parseCommand('get', args, {
    url: { type: 'string' },
    server: { type: 'string' },
    key: { type: 'string', multiple: true },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    'passphrase-file': { type: 'string' },
    padding: { type: 'string' },
    raw: { type: 'boolean' },
    timeout: { type: 'string' },
    wait: { type: 'string' },
  });
  if (input !== undefined) throw usageError('get takes no arguments, only options', 'get');
  const serverId = required(values, 'server', 'get');
  const url = passwordUrl(required(values, 'url', 'get'), serverId);
  const keyPaths = requiredList(values, 'key', 'get');
  const padding = paddingValue(values, 'get');
  const timeoutMs = timeoutValue(values);
  const wait = waitValue(values, 'get');
  const token = tokenFrom(io, values);
  const keys = keyPaths.map((keyPath) => ({ keyPath, key: readInputFile(io, keyPath, 'key file', 'secret') }));
  const ciphertext = await fetchCiphertext(io, url, token, serverId, timeoutMs, wait);
  const password = await decryptWithKeyFiles(io, ciphertext, keys, values, padding, io.stdin.isTTY === true);
  return passwordToPrint(password, values);
}

/** A private key file as read, and the path that names it in messages. */
interface KeyFile {
  readonly keyPath: string;
  readonly key: Buffer;
}

/** The codes of a key that is sound but not the one the password was encrypted for. */
const WRONG_KEY_ERRORS = new Set(['ERR_KEY_SIZE_MISMATCH', 'ERR_DECRYPTION_FAILED']);

/** A key that is not the one the password was encrypted for: with several keys, the next is tried. */
class WrongKeyError extends CliError {}

/**
 * Decrypts with each key in turn until one fits: a wrong key is detected by the decryption itself
 * (never printed as garbage) and the next is tried; any other failure (an unreadable key, a wrong
 * passphrase) stops at once. With several keys, stderr names the one that decrypted.
 */
async function decryptWithKeyFiles(
  io: ProgramIo,
  ciphertext: string,
  keys: readonly KeyFile[],
  values: Values,
  padding: PasswordPadding,
  canPrompt: boolean,
): Promise<string> {
  const misses: string[] = [];
  for (const { keyPath, key } of keys) {
    let password: string;
    try {
      password = await decryptWithKeyFile(io, ciphertext, keyPath, key, values, padding, canPrompt);
    } catch (error) {
      if (keys.length === 1 || !(error instanceof WrongKeyError)) throw error;
      misses.push(`'${keyPath}': ${error.message}`);
      continue;
    }
    if (keys.length > 1) io.stderr.write(`${PROGRAM}: decrypted with key file '${keyPath}'\n`);
    warnIfWeak(io, keyBitsOf(ciphertext), keyPath);
    return password;
  }
  throw new CliError(`none of the ${keys.length} keys decrypts this password: ${misses.join('; ')}`);
}

/**
 * The decrypted password, unless it holds control or format characters and `--raw` is not given:
 * anyone who has the public key (a malicious API too) can encrypt any text to it, and such
 * characters change what the terminal shows (`Real\rFake` shows as `Fake`, U+202E reverses text).
 */
function passwordToPrint(password: string, values: Values): string {
  if (values.raw === true) return password;
  const codes = controlOrFormatCodes(password);
  if (codes.length === 0) return password;
  throw new CliError(
    `the decrypted password holds control or format characters (${codes.slice(0, 8).join(', ')}), which change ` +
      'what a terminal shows; no password generator makes them, so it may be forged: anyone who has your public ' +
      'key, the API included, can encrypt any text to it. It was not printed; --raw prints it as it is.',
  );
}

const KEY_ERRORS = new Set(['ERR_INVALID_KEY', 'ERR_NOT_RSA_KEY', 'ERR_WEAK_KEY', 'ERR_WRONG_PASSPHRASE']);

/** A crypto failure as a CliError, naming the key file when the key is at fault; any other error unchanged. */
function cryptoFailure(error: unknown, keyPath: string): unknown {
  if (!(error instanceof PasswordCryptoError)) return error;
  if (WRONG_KEY_ERRORS.has(error.code)) return new WrongKeyError(error.message);
  return new CliError(KEY_ERRORS.has(error.code) ? `key file '${keyPath}': ${error.message}` : error.message);
}

/** Warns that a key the crypto helpers accept is still too small to rely on. */
function warnIfWeak(io: ProgramIo, bits: number, keyPath: string): void {
  if (bits >= STRONG_RSA_BITS) return;
  warn(
    io,
    `the ${bits}-bit key in '${keyPath}' is weak: keys under ${STRONG_RSA_BITS} bits may be factored. ` +
      'Make a new one with `ssh-keygen -t rsa -b 4096`.',
  );
}

/** Decrypts with the key file, asking for its passphrase only when the key turns out encrypted. */
async function decryptWithKeyFile(
  io: ProgramIo,
  ciphertext: string,
  keyPath: string,
  key: Buffer,
  values: Values,
  padding: PasswordPadding,
  canPrompt: boolean,
): Promise<string> {
  const passphrase = passphraseFromFileOrEnv(io, values);
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
  const typed = await promptHidden(io, `Passphrase for ${keyPath}: `);
  try {
    return decryptPassword(ciphertext, key, { padding, passphrase: typed });
  } catch (error) {
    throw cryptoFailure(error, keyPath);
  }
}

/** The size of the key a ciphertext that decrypted was made for: one block is the modulus length. */
function keyBitsOf(ciphertext: string): number {
  return Buffer.from(ciphertext.replace(/\s+/g, ''), 'base64').length * 8;
}
