import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { runProgram } from '../../lib/cli/run';

/** The built command line, as `npm test` builds it before jest runs. */
export const CLI_PATH = resolve(__dirname, '../../dist/lib/cli/main.js');

/** Throws a clear error when the command line has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (\`npm test\` does).`);
  }
}

/** What a run of the command line produced. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `runCli`. */
export interface RunCliOptions {
  /** Written to stdin, which is then closed; stdin is an empty pipe (not a terminal) without it. */
  readonly input?: string;
  /** Environment variables added to a minimal environment (PATH only). */
  readonly env?: Readonly<Record<string, string>>;
  /** The working directory. */
  readonly cwd?: string;
}

/**
 * Runs the command line in this process (`runProgram`, the sources): stdin is `options.input` or
 * empty, never a terminal; the environment is PATH and `options.env` only. A Node process per case
 * cost the CLI suite 13 s of CPU; `runCliProcess` runs the built bin where the process itself
 * is under test.
 */
export async function runCli(args: readonly string[], options: Omit<RunCliOptions, 'cwd'> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await runProgram(args, {
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { PATH: process.env.PATH ?? '', ...options.env },
  });
  return { status, stdout, stderr };
}

/** Runs `node dist/lib/cli/main.js ...args` as a child process. */
export function runCliProcess(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    // A command that refuses a large input exits before reading it all: the pipe breaks (EPIPE).
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Whether util-linux `script`, which gives a child a pseudo-terminal, is installed. */
export function canRunInTerminal(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs the command line on a pseudo-terminal (through `script`), types `answer` once `prompt`
 * appears, and returns everything the terminal showed (stdout and stderr together).
 */
export function runCliInTerminal(
  args: readonly string[],
  prompt: string,
  answer: string,
  env: Readonly<Record<string, string>> = {},
): Promise<{ status: number | null; screen: string }> {
  const command = [process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', SHELL: '/bin/sh', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
      if (!answered && screen.includes(prompt)) {
        answered = true;
        child.stdin.write(`${answer}\r`);
      }
    });
    const watchdog = setTimeout(() => child.kill(), 15_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(watchdog);
      resolvePromise({ status, screen });
    });
  });
}
