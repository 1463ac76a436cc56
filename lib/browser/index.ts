/**
 * `express-metadata-password/browser`: the owner's side in a web page (and in Node 20+), with no
 * dependencies: read a server's encrypted password from the owner API and decrypt it with the
 * owner's private key in the page, as Horizon's "Retrieve Password" does. The key never leaves the
 * page. PKCS#1 v1.5 is decrypted with `BigInt` (WebCrypto does not offer it), OAEP by WebCrypto.
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
