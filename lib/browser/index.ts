/**
 * `express-metadata-password/browser`: the owner's side in a web page (and in Node 20+), with no
 * dependencies: read a server's encrypted password from the owner API and decrypt it with the
 * owner's private key in the page, as Horizon's "Retrieve Password" does. The key never leaves the
 * page. PKCS#1 v1.5 is decrypted with `BigInt` (WebCrypto does not offer it), OAEP by WebCrypto.
 *
 * The module cannot import the Node code, so it keeps its own copy of a few of its rules: the only
 * duplicates the project allows, each kept equal to the Node side by a test. Server text
 * (`server-text.ts`, `__tests__/server-text.property.test.ts`); decoding a ciphertext, what text a
 * password may be, and the key-number rules (`decrypt.ts`, `password-text.ts`, `rsa.ts`:
 * `__tests__/browser-decrypt.property.test.ts` and `browser-decrypt.test.ts` give the same outcome
 * as `/crypto` on every input); the `PasswordCryptoError` contract (`errors.ts`, checked against
 * `/crypto`'s codes by the compiler in `browser-decrypt.test.ts`).
 */
export { decryptPassword } from './decrypt.js';
export { clearServerPassword, getServerPassword } from './server-password.js';
export { PasswordCryptoError, ServerPasswordError, type PasswordCryptoErrorCode } from './errors.js';
export type {
  DecryptPasswordOptions,
  FetchFunction,
  GetServerPasswordRequest,
  PasswordPadding,
  ServerPasswordRequest,
} from './types.js';
