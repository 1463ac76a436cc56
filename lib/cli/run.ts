import { wantsHelp } from './args';
import { runDecrypt, runEncrypt, runGet } from './commands';
import { HELP } from './help';
import { CliError, PROGRAM, usageError, type Command, type ProgramIo } from './program';
import { cleanServerText } from './server-text';

const COMMANDS: Record<Command, (io: ProgramIo, args: string[]) => Promise<string>> = {
  encrypt: runEncrypt,
  decrypt: runDecrypt,
  get: runGet,
};

/** Runs the command line with `argv` (without node and the script) on `io`, and resolves the exit status. */
export async function runProgram(argv: readonly string[], io: ProgramIo): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(HELP.top);
      return 2;
    }
    if (name === '-h' || name === '--help') {
      io.stdout.write(HELP.top);
      return 0;
    }
    // The argument is not echoed: it could be a password typed in the wrong place.
    if (!Object.hasOwn(COMMANDS, name)) throw usageError('unknown command: expected encrypt, decrypt or get');
    const command = name as Command;
    if (wantsHelp(args)) {
      io.stdout.write(HELP[command]);
      return 0;
    }
    io.stdout.write(`${await COMMANDS[command](io, args)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${PROGRAM}: unexpected error: ${cleanServerText(String((error as Error)?.message))}\n`);
    return 1;
  }
}
