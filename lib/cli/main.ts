#!/usr/bin/env node
/**
 * `metadata-password`: encrypt a password as a guest agent does, decrypt one with the owner's key,
 * or fetch a server's password from the compute API and decrypt it. Nothing secret is printed
 * except the decrypted password, on stdout.
 */
import { runProgram } from './run';

const { stdin, stdout, stderr, env } = process;
void runProgram(process.argv.slice(2), { stdin, stdout, stderr, env }).then((status) => {
  process.exitCode = status;
});
