/**
 * `express-metadata-password/crypto`: encrypt an instance password as a guest agent does, and
 * decrypt it on the owner's side, with the owner's SSH RSA key.
 *
 * `decryptPassword` is for the owner's own machine. Never expose it as a server-side service that
 * decrypts what callers send: telling a caller whether decryption succeeded is a padding oracle
 * (Bleichenbacher), which lets the caller decrypt any ciphertext made for that key. The metadata
 * service only stores ciphertext; it never needs a private key.
 */
export { encryptPassword, type EncryptPasswordOptions } from './encrypt';
export { decryptPassword, type DecryptPasswordOptions } from './decrypt';
export { PasswordCryptoError, type PasswordCryptoErrorCode } from './errors';
export type { PasswordPadding } from './padding';
