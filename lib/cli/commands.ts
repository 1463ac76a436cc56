import { encryptPassword } from '../crypto';
import { paddingValue, parseCommand, required, usageError } from './args';
import { inputOrStdin, readInputFile, withoutTrailingNewline } from './input';
import { cryptoFailure, decryptWithKeyFile } from './key-file';
import { fetchCiphertext, passwordUrl, tokenFrom } from './owner-api';

/* Each command resolves the text to print on stdout, or throws a CliError. */

export async function runEncrypt(args: string[]): Promise<string> {
  const { values, input } = parseCommand('encrypt', args, {
    'public-key': { type: 'string' },
    padding: { type: 'string' },
  });
  const keyPath = required(values, 'public-key', 'encrypt');
  const padding = paddingValue(values, 'encrypt');
  const publicKey = readInputFile(keyPath, 'public key file').toString('utf8');
  const fromStdin = input === undefined || input === '-';
  const text = await inputOrStdin(input, 'password', 'encrypt');
  const password = fromStdin ? withoutTrailingNewline(text) : text;
  try {
    return encryptPassword(password, publicKey, { padding });
  } catch (error) {
    throw cryptoFailure(error, keyPath);
  }
}

export async function runDecrypt(args: string[]): Promise<string> {
  const { values, input } = parseCommand('decrypt', args, {
    key: { type: 'string' },
    'passphrase-file': { type: 'string' },
    padding: { type: 'string' },
  });
  const keyPath = required(values, 'key', 'decrypt');
  const padding = paddingValue(values, 'decrypt');
  const key = readInputFile(keyPath, 'key file');
  const readsStdin = input === undefined || input === '-';
  const ciphertext = await inputOrStdin(input, 'ciphertext', 'decrypt');
  return decryptWithKeyFile(ciphertext, keyPath, key, values, padding, !readsStdin && process.stdin.isTTY === true);
}

export async function runGet(args: string[]): Promise<string> {
  const { values, input } = parseCommand('get', args, {
    url: { type: 'string' },
    server: { type: 'string' },
    key: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    'passphrase-file': { type: 'string' },
    padding: { type: 'string' },
  });
  if (input !== undefined) throw usageError('get takes no arguments, only options', 'get');
  const serverId = required(values, 'server', 'get');
  const url = passwordUrl(required(values, 'url', 'get'), serverId);
  const keyPath = required(values, 'key', 'get');
  const padding = paddingValue(values, 'get');
  const token = tokenFrom(values);
  const key = readInputFile(keyPath, 'key file');
  const ciphertext = await fetchCiphertext(url, token, serverId);
  return decryptWithKeyFile(ciphertext, keyPath, key, values, padding, process.stdin.isTTY === true);
}
