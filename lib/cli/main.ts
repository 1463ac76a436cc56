#!/usr/bin/env node
/**
 * `metadata-password`: encrypt a password as a guest agent does, decrypt one with the owner's key,
 * or fetch a server's password from the compute API and decrypt it. Nothing secret is printed
 * except the decrypted password, on stdout.
 */
import { wantsHelp } from './args';
import { runDecrypt, runEncrypt, runGet } from './commands';
import { HELP } from './help';
import { CliError, PROGRAM, usageError, type Command } from './program';
import { cleanServerText } from './server-text';

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
    process.stderr.write(`${PROGRAM}: unexpected error: ${cleanServerText(String((error as Error)?.message))}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
