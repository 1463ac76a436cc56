import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { PasswordCryptoError } from './errors';
import { invalidKey, notRsaKey, passphraseRequired, wrongPassphrase } from './key-errors';
import { pemLabel, requireRsa } from './key-kind';
import { openSshPrivateKey } from './openssh-key';

const NODE_PEM_LABELS = new Set(['RSA PRIVATE KEY', 'PRIVATE KEY', 'ENCRYPTED PRIVATE KEY']);
const OTHER_TYPE_PEM_LABELS: Readonly<Record<string, string>> = {
  'EC PRIVATE KEY': 'ECDSA',
  'DSA PRIVATE KEY': 'DSA',
};
const PKCS1_ENCRYPTED_HEADER = /^Proc-Type:\s*4,ENCRYPTED/m;
const OPENSSH_PUBLIC_LINE = /^\s*(?:ssh-|ecdsa-|sk-)\S+\s+AAAA/;

const SUPPORTED =
  'expected a PEM private key (`BEGIN RSA PRIVATE KEY`, `BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY`) ' +
  'or an OpenSSH one (`BEGIN OPENSSH PRIVATE KEY`), as `ssh-keygen` writes them.';

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
  if (label === 'OPENSSH PRIVATE KEY') key = openSshPrivateKey(text, passphrase);
  else if (label !== undefined && NODE_PEM_LABELS.has(label)) key = pemPrivateKey(text, label, passphrase);
  else throw unsupported(text, label);
  requireRsa(key);
  return key;
}

function unsupported(text: string, label: string | undefined): PasswordCryptoError {
  if (label !== undefined && label in OTHER_TYPE_PEM_LABELS) {
    return notRsaKey(OTHER_TYPE_PEM_LABELS[label], 'private');
  }
  if (label?.includes('PUBLIC KEY') || OPENSSH_PUBLIC_LINE.test(text)) {
    return invalidKey('This is a public key; decrypting needs the private key (the key file without `.pub`).');
  }
  if (text.startsWith('PuTTY-User-Key-File')) {
    return invalidKey(`This is a PuTTY key: export it with PuTTYgen (Conversions, Export OpenSSH key); ${SUPPORTED}`);
  }
  return invalidKey(`Not a private key this package reads: ${SUPPORTED}`);
}

function pemPrivateKey(text: string, label: string, passphrase: string | undefined): KeyObject {
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
