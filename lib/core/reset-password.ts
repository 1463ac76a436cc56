import { randomInt } from 'node:crypto';
import { passwordError } from './errors';

/** Length of a generated password. */
export const GENERATED_LENGTH = 20;
/** Bounds, in characters (code points), of a password the host gives. */
export const MIN_RESET_LENGTH = 8;
export const MAX_RESET_LENGTH = 127;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
// No quote, backslash, `$`, space or `&`: a generated password survives a shell, a URL form and XML.
const SYMBOLS = '!#%+-.:=@_~';
const ALPHABET = UPPER + LOWER + DIGITS + SYMBOLS;
const CLASSES = [UPPER, LOWER, DIGITS, SYMBOLS];

/** The protocol's own words: a password spelled like one would read as that answer. */
export const PROTOCOL_WORDS: readonly string[] = ['saved_password', 'bad_request'];

const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}]/u;
const LONE_SURROGATE = /\p{Cs}/u;
const SURROUNDING_WHITESPACE = /^\s|\s$/u;

/**
 * A password from the CSPRNG: 20 characters with at least one upper case letter, one lower case
 * letter, one digit and one symbol (Windows' complexity rule asks for three of the four).
 */
export function generateResetPassword(): string {
  for (;;) {
    let password = '';
    for (let i = 0; i < GENERATED_LENGTH; i++) password += ALPHABET[randomInt(ALPHABET.length)];
    if (CLASSES.every((characters) => [...password].some((character) => characters.includes(character)))) return password;
  }
}

/**
 * Checks a password the host gives for a reset: 8 to 127 characters, no control or format
 * characters, no leading or trailing whitespace (the agents strip the answer), not one of the
 * protocol's words. Throws 400 `INVALID_PASSWORD` saying which rule it breaks.
 */
export function checkResetPassword(password: unknown): asserts password is string {
  const refuse = (why: string): never => {
    throw passwordError('INVALID_PASSWORD', `The password ${why}.`);
  };
  if (typeof password !== 'string') refuse('must be a string');
  const text = password as string;
  if (LONE_SURROGATE.test(text)) refuse('is not valid Unicode text (a lone surrogate)');
  const length = [...text].length;
  if (length < MIN_RESET_LENGTH || length > MAX_RESET_LENGTH) {
    refuse(`must be ${MIN_RESET_LENGTH} to ${MAX_RESET_LENGTH} characters; it is ${length}`);
  }
  if (CONTROL_OR_FORMAT.test(text)) refuse('contains control or format characters');
  if (SURROUNDING_WHITESPACE.test(text)) refuse('starts or ends with whitespace, which the agents strip');
  if (PROTOCOL_WORDS.includes(text)) refuse(`is one of the protocol's words (${PROTOCOL_WORDS.join(', ')})`);
}
