/** The program's name, as its messages start, and the environment variables it reads. */
export const PROGRAM = 'metadata-password';
export const PASSPHRASE_ENV = 'METADATA_PASSWORD_PASSPHRASE';
export const TOKEN_ENV = 'OS_AUTH_TOKEN';

/** The program's commands. */
export type Command = 'encrypt' | 'decrypt' | 'get';

/** A failure reported on stderr: exit status 1, 2 for a usage error, 3 when `get --wait` saw no password. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
  }
}

/** A usage error (exit status 2), pointing at the help of `command` or of the program. */
export function usageError(message: string, command?: Command): CliError {
  return new CliError(`${message}\nRun \`${PROGRAM}${command ? ` ${command}` : ''} --help\` for usage.`, 2);
}

/**
 * The streams and environment the program runs with: the process's own (`main.ts`), or others
 * given to `runProgram` (the tests run most cases in their own process this way).
 */
export interface ProgramIo {
  /** Standard input; `isTTY` is true when it is a terminal. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean; destroy(): void };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Prints a warning on stderr; the command goes on. */
export function warn(io: ProgramIo, message: string): void {
  io.stderr.write(`${PROGRAM}: warning: ${message}\n`);
}
