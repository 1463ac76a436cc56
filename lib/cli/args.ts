import { parseArgs } from 'node:util';
import type { PasswordPadding } from '../crypto';
import type { Command } from './help';
import { PROGRAM } from './names';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type Values = Record<string, string | boolean | undefined>;

/** A failure reported on stderr: exit status 1, or 2 for a usage error. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export function usageError(message: string, command?: Command): CliError {
  return new CliError(`${message}\nRun \`${PROGRAM}${command ? ` ${command}` : ''} --help\` for usage.`, 2);
}

/** Whether `-h` or `--help` comes before any `--`. */
export function wantsHelp(args: readonly string[]): boolean {
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

/** Parses a command's options and at most one positional argument, or throws a usage error. */
export function parseCommand(command: Command, args: string[], options: OptionSpec) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > 1) throw usageError('too many arguments', command);
    return { values: parsed.values as Values, input: parsed.positionals[0] };
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(describeParseError(error), command);
  }
}

export function required(values: Values, name: string, command: Command): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw usageError(`missing --${name}`, command);
  return value;
}

export function paddingValue(values: Values, command: Command): PasswordPadding {
  const padding = values.padding ?? 'pkcs1';
  if (padding === 'pkcs1' || padding === 'oaep-sha256') return padding;
  throw usageError('--padding must be pkcs1 or oaep-sha256', command);
}
