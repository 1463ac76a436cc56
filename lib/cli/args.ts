import { parseArgs } from 'node:util';
import { PASSWORD_PADDINGS, isPasswordPadding, type PasswordPadding } from '../crypto/padding';
import { CliError, usageError, type Command } from './program';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Whether `-h` or `--help` comes before any `--`. */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '-h' || arg === '--help');
}

/**
 * The position (1 for the command) of the first argument that is not one of `options`, or
 * `undefined`. Positions, not text: an argument the program does not understand may be a password
 * typed in the wrong place, and is never echoed.
 */
function unknownOptionPosition(args: readonly string[], options: OptionSpec): number | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.startsWith('--') ? arg.slice(2).split('=', 1)[0] : '';
    if (!Object.hasOwn(options, name)) return index + 2;
    if (options[name].type === 'string' && !arg.includes('=')) index++;
  }
  return undefined;
}

/** Says what is wrong with the arguments, naming only options of `options`, never what was typed. */
function describeParseError(error: unknown, args: readonly string[], options: OptionSpec, command: Command): string {
  const code = (error as { code?: string }).code;
  const known = Object.keys(options).map((name) => `--${name}`);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const position = unknownOptionPosition(args, options);
    const where = position === undefined ? '' : ` (argument ${position})`;
    return (
      `unknown option${where}: ${command} takes ${known.join(', ')}; ` +
      'an argument that starts with - goes after --'
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const quoted = /'(--[a-z-]+)/.exec((error as Error).message)?.[1];
    const name = quoted !== undefined && known.includes(quoted) ? quoted : 'an option';
    return `${name} needs a value (one that starts with - goes as ${name === 'an option' ? '--OPTION' : name}=VALUE)`;
  }
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
    throw usageError(describeParseError(error, args, options, command), command);
  }
}

/** The value of option `name`, or a usage error when it is missing or empty. */
export function required(values: Values, name: string, command: Command): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw usageError(`missing --${name}`, command);
  return value;
}

/** The `--padding` value, `pkcs1` when absent; a usage error (not echoing it) for anything else. */
export function paddingValue(values: Values, command: Command): PasswordPadding {
  const padding = values.padding ?? PASSWORD_PADDINGS[0];
  if (isPasswordPadding(padding)) return padding;
  throw usageError(`--padding must be ${PASSWORD_PADDINGS.join(' or ')}`, command);
}

/** The longest `--timeout` accepted, in seconds: an hour. */
const MAX_TIMEOUT_SECONDS = 3600;

/** The `--timeout` value in milliseconds, 30 s when absent; a usage error for anything but 1 to 3600 seconds. */
export function timeoutValue(values: Values): number {
  const given = values.timeout;
  if (given === undefined) return 30_000;
  const seconds = typeof given === 'string' && /^\d+(\.\d+)?$/.test(given) ? Number(given) : Number.NaN;
  if (!(seconds >= 0.001 && seconds <= MAX_TIMEOUT_SECONDS)) {
    throw usageError(`--timeout must be a number of seconds from 0.001 to ${MAX_TIMEOUT_SECONDS}`, 'get');
  }
  return Math.round(seconds * 1000);
}

/** The longest `get --wait`, in seconds: a day. */
const MAX_WAIT_SECONDS = 86_400;

/** The values of a repeatable option `name` (`--key A --key B`), or a usage error when none is given. */
export function requiredList(values: Values, name: string, command: Command): string[] {
  const given = values[name];
  const list = typeof given === 'string' ? [given] : Array.isArray(given) ? given : [];
  if (list.length === 0 || list.some((value) => value === '')) throw usageError(`missing --${name}`, command);
  return list;
}

/** The `--wait` seconds, or `undefined` without it; a usage error for anything but 1 to 86400. */
export function waitValue(values: Values, command: Command): number | undefined {
  const wait = values.wait;
  if (wait === undefined) return undefined;
  const seconds = typeof wait === 'string' && /^\d{1,5}$/.test(wait) ? Number(wait) : NaN;
  if (seconds >= 1 && seconds <= MAX_WAIT_SECONDS) return seconds;
  throw usageError(`--wait takes whole seconds from 1 to ${MAX_WAIT_SECONDS}`, command);
}
