import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Values } from './args';
import { CliError, PASSPHRASE_ENV, PROGRAM, usageError, type Command, type ProgramIo } from './program';

/** The most bytes read of any input (a file or stdin): keys, tokens and ciphertexts are a few KiB. */
export const MAX_INPUT_BYTES = 64 * 1024;

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** Whether a file holds a secret (a private key, a token, a passphrase), which only its owner may read. */
export type FileKind = 'secret' | 'public';

/**
 * The content of a file the user named, at most `MAX_INPUT_BYTES`, or a CliError naming `what` and
 * the file. A secret file that group or others may access gets ssh's warning (it is still used).
 */
export function readInputFile(io: ProgramIo, path: string, what: string, kind: FileKind = 'public'): Buffer {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    const stat = fstatSync(descriptor);
    if (kind === 'secret' && stat.isFile()) warnIfOthersMayRead(io, path, what, stat.mode);
    return readCapped(descriptor, `${what} '${path}'`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read ${what} '${path}': ${FILE_ERRORS[code] ?? code}`);
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** Reads a file, a FIFO or a device up to one byte past the cap, and refuses it when it goes past. */
function readCapped(descriptor: number, source: string): Buffer {
  const buffer = Buffer.alloc(MAX_INPUT_BYTES + 1);
  let size = 0;
  for (;;) {
    const read = readSync(descriptor, buffer, size, buffer.length - size, null);
    if (read === 0) return buffer.subarray(0, size);
    size += read;
    if (size > MAX_INPUT_BYTES) throw tooLarge(source);
  }
}

function tooLarge(source: string): CliError {
  return new CliError(`${source} is larger than ${MAX_INPUT_BYTES / 1024} KiB, which no key, token, password or ciphertext is; nothing was read past that`);
}

/**
 * ssh's warning for a secret file group or others may access (ssh refuses such a key; this warns
 * and goes on): `WARNING: UNPROTECTED PRIVATE KEY FILE!`, the file and its mode.
 */
function warnIfOthersMayRead(io: ProgramIo, path: string, what: string, mode: number): void {
  if (process.platform === 'win32' || (mode & 0o077) === 0) return;
  const permissions = (mode & 0o777).toString(8).padStart(4, '0');
  const kind = what === 'key file' ? 'PRIVATE KEY FILE' : what.toUpperCase();
  io.stderr.write(
    `${PROGRAM}: WARNING: UNPROTECTED ${kind}! Permissions ${permissions} for '${path}' are too open: ` +
      `group or others may read it. Run \`chmod 600 '${path}'\`.\n`,
  );
}

/** `text` without one trailing newline (LF or CRLF), as a file or a pipe ends it. */
export function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** Standard input, at most `MAX_INPUT_BYTES`: past that it stops reading and fails. */
async function readStdin(io: ProgramIo): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) {
      io.stdin.destroy();
      throw tooLarge('standard input');
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The positional input, or stdin for `-` or none when stdin is not a terminal. */
export async function inputOrStdin(io: ProgramIo, input: string | undefined, what: string, command: Command): Promise<string> {
  if (input !== undefined && input !== '-') return input;
  if (input === undefined && io.stdin.isTTY === true) {
    throw usageError(`no ${what}: pass it as an argument, or - to read it from stdin`, command);
  }
  return readStdin(io);
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(io: ProgramIo, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
    const prompt = createInterface({ input: io.stdin, output: silent, terminal: true });
    let answered = false;
    io.stderr.write(question);
    prompt.on('line', (line) => {
      answered = true;
      prompt.close();
      resolve(line);
    });
    prompt.on('SIGINT', () => prompt.close());
    prompt.on('close', () => {
      io.stderr.write('\n');
      if (!answered) reject(new CliError('no passphrase entered'));
    });
  });
}

/** The key's passphrase from --passphrase-file, else from the environment; undefined when neither gives one. */
export function passphraseFromFileOrEnv(io: ProgramIo, values: Values): string | undefined {
  const file = values['passphrase-file'];
  if (typeof file === 'string') {
    return withoutTrailingNewline(readInputFile(io, file, 'passphrase file', 'secret').toString('utf8'));
  }
  const fromEnv = io.env[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
