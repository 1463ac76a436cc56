import { createPrivateKey, type KeyObject } from 'node:crypto';
import sshpk from 'sshpk';
import { PasswordCryptoError } from './errors';
import { keyTypeName, notRsaKey, pemLabel, requireRsa } from './key-kind';

const NODE_PEM_LABELS = new Set(['RSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const OTHER_TYPE_PEM_LABELS: Readonly<Record<string, string>> = {
  'EC PRIVATE KEY': 'ECDSA',
  'DSA PRIVATE KEY': 'DSA',
};
const PKCS1_ENCRYPTED_HEADER = /^Proc-Type:\s*4,ENCRYPTED/m;

const SUPPORTED =
  'expected a PEM private key (`BEGIN RSA PRIVATE KEY`, `BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`) ' +
  'or an OpenSSH one (`BEGIN OPENSSH PRIVATE KEY`), as `ssh-keygen` writes them.';

function invalidKey(message: string): PasswordCryptoError {
  return new PasswordCryptoError('ERR_INVALID_KEY', message);
}

const passphraseRequired = (): PasswordCryptoError =>
  new PasswordCryptoError('ERR_PASSPHRASE_REQUIRED', 'The private key is encrypted: pass its passphrase.');

const wrongPassphrase = (): PasswordCryptoError =>
  new PasswordCryptoError(
    'ERR_WRONG_PASSPHRASE',
    'The passphrase does not open the private key (or the key file is damaged): check the passphrase.',
  );

/**
 * Reads an RSA private key: PEM PKCS#1 or PKCS#8 (encrypted or not) through Node's crypto, OpenSSH
 * (encrypted or not) through sshpk. Throws `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`,
 * `ERR_PASSPHRASE_REQUIRED` or `ERR_WRONG_PASSPHRASE`.
 */
export function loadPrivateKey(privateKey: unknown, passphrase: string | undefined): KeyObject {
  if (typeof privateKey !== 'string' && !Buffer.isBuffer(privateKey)) {
    throw invalidKey(`The private key must be a string or a Buffer: ${SUPPORTED}`);
  }
  const text = typeof privateKey === 'string' ? privateKey : privateKey.toString('utf8');
  const label = pemLabel(text);
  let key: KeyObject;
  if (label === 'OPENSSH PRIVATE KEY') key = fromOpenSsh(text, passphrase);
  else if (label !== undefined && NODE_PEM_LABELS.has(label)) key = fromPem(text, label, passphrase);
  else throw unsupported(text, label);
  requireRsa(key);
  return key;
}

function unsupported(text: string, label: string | undefined): PasswordCryptoError {
  if (label !== undefined && label in OTHER_TYPE_PEM_LABELS) {
    return notRsaKey(OTHER_TYPE_PEM_LABELS[label], 'private');
  }
  if (label?.includes('PUBLIC KEY') || /^\s*(?:ssh-|ecdsa-|sk-)\S+\s+AAAA/.test(text)) {
    return invalidKey('This is a public key; decrypting needs the private key (the key file without `.pub`).');
  }
  if (text.startsWith('PuTTY-User-Key-File')) {
    return invalidKey(`This is a PuTTY key: export it with PuTTYgen (Conversions, Export OpenSSH key); ${SUPPORTED}`);
  }
  return invalidKey(`Not a private key this package reads: ${SUPPORTED}`);
}

function fromPem(text: string, label: string, passphrase: string | undefined): KeyObject {
  const encrypted = label === 'ENCRYPTED PRIVATE KEY' || PKCS1_ENCRYPTED_HEADER.test(text);
  // Decided from the PEM text, since Node versions report a missing passphrase differently.
  if (encrypted && passphrase === undefined) throw passphraseRequired();
  try {
    return createPrivateKey({ key: text, format: 'pem', ...(encrypted ? { passphrase } : {}) });
  } catch {
    // A wrong passphrase may fail the cipher's padding or, by chance, only the key's structure after it.
    if (encrypted) throw wrongPassphrase();
    throw invalidKey(`The PEM private key does not parse: check that the file is whole. ${SUPPORTED}`);
  }
}

function fromOpenSsh(text: string, passphrase: string | undefined): KeyObject {
  let parsed: sshpk.PrivateKey;
  try {
    parsed = sshpk.parsePrivateKey(text, 'ssh');
  } catch (error) {
    if ((error as Error).name !== 'KeyEncryptedError') {
      throw invalidKey(`The OpenSSH private key does not parse: check that the file is whole. ${SUPPORTED}`);
    }
    if (passphrase === undefined) throw passphraseRequired();
    parsed = openEncryptedOpenSsh(text, passphrase);
  }
  if (parsed.type !== 'rsa') throw notRsaKey(keyTypeName(parsed.type), 'private');
  return createPrivateKey({ key: parsed.toString('pkcs8'), format: 'pem' });
}

function openEncryptedOpenSsh(text: string, passphrase: string): sshpk.PrivateKey {
  try {
    return sshpk.parsePrivateKey(text, 'ssh', { passphrase });
  } catch {
    throw wrongPassphrase();
  }
}
