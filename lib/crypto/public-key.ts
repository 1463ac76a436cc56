import { createPublicKey, type KeyObject } from 'node:crypto';
import sshpk from 'sshpk';
import { invalidKey, notRsaKey } from './key-errors';
import { pemLabel, requireRsa } from './key-kind';

const PUBLIC_PEM_LABELS = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY']);
const OPENSSH_KEY_TYPE = /^(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9-]+@openssh\.com)$/;

const SUPPORTED =
  'expected an `ssh-rsa AAAA...` line (as in authorized_keys or a `.pub` file) or a PEM public key ' +
  '(`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).';

/**
 * Reads an RSA public key from an OpenSSH line or PEM text. Throws `ERR_INVALID_KEY` for anything
 * else (a private key included) and `ERR_NOT_RSA_KEY` for a key of another type.
 */
export function loadPublicKey(publicKey: unknown): KeyObject {
  if (typeof publicKey !== 'string') {
    throw invalidKey(`The public key must be a string: ${SUPPORTED}`);
  }
  const label = pemLabel(publicKey);
  if (label?.endsWith('PRIVATE KEY')) {
    throw invalidKey(
      'This is a private key; encrypting needs the public key: the `ssh-rsa` line of the `.pub` file ' +
        "or a PEM public key. The private key stays on the owner's side.",
    );
  }
  const key = label === undefined ? fromOpenSshLine(publicKey) : fromPem(publicKey, label);
  requireRsa(key);
  return key;
}

function fromPem(text: string, label: string): KeyObject {
  if (!PUBLIC_PEM_LABELS.has(label)) throw invalidKey(`This PEM block is a \`${label}\`; ${SUPPORTED}`);
  try {
    return createPublicKey({ key: text, format: 'pem' });
  } catch {
    throw invalidKey(`The PEM public key does not parse: check that it was copied whole. ${SUPPORTED}`);
  }
}

function fromOpenSshLine(text: string): KeyObject {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (lines.length > 1) {
    throw invalidKey(
      `The text holds ${lines.length} lines; pass exactly one public key, the one whose private key the owner holds.`,
    );
  }
  const line = lines[0]?.trim() ?? '';
  const type = line.split(/\s+/, 1)[0];
  if (type.endsWith('-cert-v01@openssh.com')) {
    throw invalidKey('This is an OpenSSH certificate; pass the public key itself (the `.pub` file of the key).');
  }
  if (type !== 'ssh-rsa') {
    if (OPENSSH_KEY_TYPE.test(type)) throw notRsaKey(type, 'public');
    throw invalidKey(`Not a public key this package reads: ${SUPPORTED}`);
  }
  let parsed: sshpk.Key;
  try {
    parsed = sshpk.parseKey(line, 'ssh');
  } catch {
    throw invalidKey('The `ssh-rsa` line does not parse: copy the whole line from the `.pub` file.');
  }
  return createPublicKey({ key: parsed.toString('pkcs8'), format: 'pem' });
}
