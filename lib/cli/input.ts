import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Values } from './args';
import { CliError, PASSPHRASE_ENV, usageError, type Command } from './program';

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** The content of a file the user named, or a CliError naming `what` and the file. */
export function readInputFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read ${what} '${path}': ${FILE_ERRORS[code] ?? code}`);
  }
}

/** `text` without one trailing newline (LF or CRLF), as a file or a pipe ends it. */
export function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The positional input, or stdin for `-` or none when stdin is not a terminal. */
export async function inputOrStdin(input: string | undefined, what: string, command: Command): Promise<string> {
  if (input !== undefined && input !== '-') return input;
  if (input === undefined && process.stdin.isTTY) {
    throw usageError(`no ${what}: pass it as an argument, or - to read it from stdin`, command);
  }
  return readStdin();
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
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

/** The key's passphrase from --passphrase-file, else from the environment; undefined when neither gives one. */
export function passphraseFromFileOrEnv(values: Values): string | undefined {
  const file = values['passphrase-file'];
  if (typeof file === 'string') return withoutTrailingNewline(readInputFile(file, 'passphrase file').toString('utf8'));
  const fromEnv = process.env[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
