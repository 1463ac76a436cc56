/** The program's name, as its messages start, and the environment variables it reads. */
export const PROGRAM = 'metadata-password';
export const PASSPHRASE_ENV = 'METADATA_PASSWORD_PASSPHRASE';
export const TOKEN_ENV = 'OS_AUTH_TOKEN';

/** The program's commands. */
export type Command = 'encrypt' | 'decrypt' | 'get';

/** A failure reported on stderr: exit status 1, or 2 for a usage error. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A usage error (exit status 2), pointing at the help of `command` or of the program. */
export function usageError(message: string, command?: Command): CliError {
  return new CliError(`${message}\nRun \`${PROGRAM}${command ? ` ${command}` : ''} --help\` for usage.`, 2);
}

/** Prints a warning on stderr; the command goes on. */
export function warn(message: string): void {
  process.stderr.write(`${PROGRAM}: warning: ${message}\n`);
}

/**
 * Format characters: bidirectional overrides, isolates and marks (U+202A-202E, U+2066-2069,
 * U+200E/200F, U+061C), zero-width characters.
 */
const INVISIBLE_FORMAT = /\p{Cf}/gu;
/** Control characters (C0, DEL, C1: escape sequences, carriage returns) and Unicode line breaks. */
const CONTROL_OR_BREAK = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const MAX_FOREIGN_TEXT = 300;

/**
 * Text from elsewhere (a server's answer, an unexpected error), made safe to print on a terminal:
 * format characters removed (they reorder or hide what is shown), control characters and line
 * breaks as spaces (they move the cursor, recolour or retitle the terminal), at most 300 characters.
 */
export function printable(text: string): string {
  const flat = text.replace(INVISIBLE_FORMAT, '').replace(CONTROL_OR_BREAK, ' ');
  const characters = Array.from(flat);
  return characters.length > MAX_FOREIGN_TEXT ? `${characters.slice(0, MAX_FOREIGN_TEXT).join('')}...` : flat;
}
