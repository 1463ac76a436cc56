#!/usr/bin/env node
/**
 * `metadata-password`: encrypt a password as a guest agent does, decrypt one with the owner's key,
 * or fetch a server's password from the compute API and decrypt it. Nothing secret is printed
 * except the decrypted password, on stdout.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { PasswordCryptoError, decryptPassword, encryptPassword, type PasswordPadding } from './crypto';

const PROGRAM = 'metadata-password';
const PASSPHRASE_ENV = 'METADATA_PASSWORD_PASSPHRASE';
const TOKEN_ENV = 'OS_AUTH_TOKEN';
const REQUEST_TIMEOUT_MS = 30_000;
const SERVER_ID = /^[A-Za-z0-9._~-]{1,255}$/;
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;

const HELP = {
  top: `Usage: ${PROGRAM} <command> [options]

Encrypt, decrypt and fetch instance passwords (OpenStack Nova's os-server-password).

Commands:
  encrypt   Encrypt a password with an RSA public key, as a guest agent does
  decrypt   Decrypt a password with your RSA private key
  get       Fetch a server's password from the compute API and decrypt it

Run \`${PROGRAM} <command> --help\` for a command's options.
Exit status: 0 success, 1 failure, 2 usage error.
`,
  encrypt: `Usage: ${PROGRAM} encrypt --public-key FILE [options] [PASSWORD | -]

Encrypts PASSWORD with the RSA public key in FILE and prints the ciphertext in base64.
With -, or no PASSWORD while stdin is not a terminal, reads the password from stdin and
removes one trailing newline. A PASSWORD argument is visible to other users of this machine
in the process list: prefer stdin.

Options:
  --public-key FILE  an ssh-rsa line (a .pub file) or a PEM public key
  --padding MODE     pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  -h, --help         show this help
`,
  decrypt: `Usage: ${PROGRAM} decrypt --key FILE [options] [CIPHERTEXT | -]

Decrypts a base64 CIPHERTEXT, as os-server-password returns it, with the RSA private key in
FILE and prints the password. With -, or no CIPHERTEXT while stdin is not a terminal, reads
the ciphertext from stdin.

Options:
  --key FILE              the private key: OpenSSH, PEM PKCS#1 or PKCS#8, encrypted or not
  --passphrase-file FILE  the key's passphrase (one trailing newline removed); else the
                          environment variable ${PASSPHRASE_ENV}; else a prompt when
                          stdin is a terminal
  --padding MODE          pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  -h, --help              show this help
`,
  get: `Usage: ${PROGRAM} get --url BASE --server ID --key FILE [options]

Fetches BASE/servers/ID/os-server-password, decrypts the password with the RSA private key
in FILE and prints it. The token comes from --token-file, else --token, else the environment
variable ${TOKEN_ENV}.

Options:
  --url BASE              the compute API's base URL, e.g. https://cloud.example/compute/v2.1
  --server ID             the server's id
  --key FILE              the private key: OpenSSH, PEM PKCS#1 or PKCS#8, encrypted or not
  --token-file FILE       a file holding the token
  --token TOKEN           the token itself; visible to other users of this machine in the
                          process list: prefer ${TOKEN_ENV} or --token-file
  --passphrase-file FILE  the key's passphrase; else ${PASSPHRASE_ENV}; else a prompt
                          when stdin is a terminal
  --padding MODE          pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  -h, --help              show this help
`,
} as const;

type Command = Exclude<keyof typeof HELP, 'top'>;
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values = Record<string, string | boolean | undefined>;

/** A failure reported on stderr: exit status 1, or 2 for a usage error. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

function usageError(message: string, command?: Command): CliError {
  return new CliError(`${message}\nRun \`${PROGRAM}${command ? ` ${command}` : ''} --help\` for usage.`, 2);
}

function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '-h' || arg === '--help');
}

/** Node's parseArgs messages quote the offending argument; name it only when it looks like an option. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const quoted = /'(-[^'\s]*)/.exec((error as Error).message)?.[1];
  const name = quoted !== undefined && /^--?[A-Za-z][A-Za-z0-9-]{0,30}$/.test(quoted) ? ` ${quoted}` : '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option${name} (put an argument starting with - after --)`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `option${name} needs a value`;
  return 'invalid arguments';
}

function parseCommand(command: Command, args: string[], options: OptionSpec) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > 1) throw usageError('too many arguments', command);
    return { values: parsed.values as Values, input: parsed.positionals[0] };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(describeParseError(error), command);
  }
}

function required(values: Values, name: string, command: Command): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw usageError(`missing --${name}`, command);
  return value;
}

function paddingValue(values: Values, command: Command): PasswordPadding {
  const padding = values.padding ?? 'pkcs1';
  if (padding === 'pkcs1' || padding === 'oaep-sha256') return padding;
  throw usageError('--padding must be pkcs1 or oaep-sha256', command);
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read ${what} '${path}': ${FILE_ERRORS[code] ?? code}`);
  }
}

function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The positional input, or stdin for `-` or none when stdin is not a terminal. */
async function inputOrStdin(input: string | undefined, what: string, command: Command): Promise<string> {
  if (input !== undefined && input !== '-') return input;
  if (input === undefined && process.stdin.isTTY) {
    throw usageError(`no ${what}: pass it as an argument, or - to read it from stdin`, command);
  }
  return readStdin();
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const prompt = createInterface({ input: process.stdin, output: silent, terminal: true });
    let answered = false;
    process.stderr.write(question);
    prompt.on('line', (line) => {
      answered = true;
      prompt.close();
      resolve(line);
    });
    prompt.on('SIGINT', () => prompt.close());
    prompt.on('close', () => {
      process.stderr.write('\n');
      if (!answered) reject(new CliError('no passphrase entered'));
    });
  });
}

function passphraseFromFileOrEnv(values: Values): string | undefined {
  const file = values['passphrase-file'];
  if (typeof file === 'string') return withoutTrailingNewline(readInputFile(file, 'passphrase file').toString('utf8'));
  const fromEnv = process.env[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

const KEY_ERRORS = new Set(['ERR_INVALID_KEY', 'ERR_NOT_RSA_KEY', 'ERR_WRONG_PASSPHRASE']);

function cryptoFailure(error: unknown, keyPath: string): unknown {
  if (!(error instanceof PasswordCryptoError)) return error;
  return new CliError(KEY_ERRORS.has(error.code) ? `key file '${keyPath}': ${error.message}` : error.message);
}

/** Decrypts with the key file, asking for its passphrase only when the key turns out encrypted. */
async function decryptWithKeyFile(
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

async function runEncrypt(args: string[]): Promise<string> {
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

async function runDecrypt(args: string[]): Promise<string> {
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

function tokenFrom(values: Values): string {
  const { token, 'token-file': tokenFile } = values;
  if (typeof token === 'string' && typeof tokenFile === 'string') {
    throw usageError('pass either --token or --token-file, not both', 'get');
  }
  const [value, source] =
    typeof tokenFile === 'string'
      ? [readInputFile(tokenFile, 'token file').toString('utf8').trim(), `token file '${tokenFile}'`]
      : typeof token === 'string'
        ? [token, '--token']
        : [process.env[TOKEN_ENV] ?? '', TOKEN_ENV];
  if (value === '') {
    if (source === TOKEN_ENV) throw usageError(`no token: set ${TOKEN_ENV}, or pass --token-file FILE`, 'get');
    throw new CliError(`the token from ${source} is empty`);
  }
  if (!HEADER_SAFE_TOKEN.test(value)) {
    throw new CliError(`the token from ${source} holds spaces or control characters; a header cannot carry it`);
  }
  return value;
}

function passwordUrl(base: string, serverId: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw usageError('--url must be an absolute http or https URL', 'get');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError('--url must be http or https', 'get');
  if (url.username !== '' || url.password !== '') {
    throw usageError('--url must not hold credentials; the token authenticates', 'get');
  }
  if (url.search !== '' || url.hash !== '') throw usageError('--url must not have a query or a fragment', 'get');
  if (!SERVER_ID.test(serverId) || serverId === '.' || serverId === '..') {
    throw usageError('--server must be a server id (letters, digits, . _ ~ -)', 'get');
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/servers/${serverId}/os-server-password`;
  return url;
}

/** Server text shown on stderr: printable, and short. */
function printable(text: string): string {
  return text.replace(/[^\P{Cc}]/gu, ' ').slice(0, 300);
}

function describeErrorAnswer(status: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    const first = parsed !== null && typeof parsed === 'object' ? Object.values(parsed)[0] : undefined;
    const { code, message } = (first ?? {}) as { code?: unknown; message?: unknown };
    if (typeof message === 'string') {
      const codeText = typeof code === 'string' ? ` ${printable(code)}` : '';
      return `the server answered ${status}${codeText}: ${printable(message)}`;
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return `the server answered ${status}`;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

async function fetchCiphertext(url: URL, token: string, serverId: string): Promise<string> {
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    process.stderr.write(`${PROGRAM}: warning: sending the token to ${url.host} over plain http\n`);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'X-Auth-Token': token, Accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new CliError(`cannot reach ${url.origin}: ${cause}`);
  }
  const body = await response.text();
  if (response.status >= 300 && response.status < 400) {
    throw new CliError(`the server answered ${response.status} (a redirect, not followed with the token): check --url`);
  }
  if (!response.ok) throw new CliError(describeErrorAnswer(response.status, body));
  let password: unknown;
  try {
    password = (JSON.parse(body) as { password?: unknown }).password;
  } catch {
    password = undefined;
  }
  if (typeof password !== 'string') {
    throw new CliError(`the server answered ${response.status} without {"password": ...}: check --url`);
  }
  if (password === '') {
    throw new CliError(
      `no password is set (yet) for server ${serverId}: the guest agent has not posted one, or it was cleared. ` +
        'Try again once the instance has finished booting.',
    );
  }
  return password;
}

async function runGet(args: string[]): Promise<string> {
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

const COMMANDS: Record<Command, (args: string[]) => Promise<string>> = {
  encrypt: runEncrypt,
  decrypt: runDecrypt,
  get: runGet,
};

/** Runs the command line and resolves the exit status. */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined) {
      process.stderr.write(HELP.top);
      return 2;
    }
    if (name === '-h' || name === '--help') {
      process.stdout.write(HELP.top);
      return 0;
    }
    // The argument is not echoed: it could be a password typed in the wrong place.
    if (!Object.hasOwn(COMMANDS, name)) throw usageError('unknown command: expected encrypt, decrypt or get');
    const command = name as Command;
    if (wantsHelp(args)) {
      process.stdout.write(HELP[command]);
      return 0;
    }
    process.stdout.write(`${await COMMANDS[command](args)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`${PROGRAM}: unexpected error: ${(error as Error).message}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
