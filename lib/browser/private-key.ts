import { decodeBase64 } from './bytes.js';
import { DerError, DerReader, DER_TAG } from './der.js';
import { PasswordCryptoError } from './errors.js';
import { isConsistent, weakness, type RsaPrivateKey } from './rsa.js';
import { SshWireError, SshWireReader } from './ssh-wire.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;
const PEM_HEADER = /^[A-Za-z-]+:.*$/gm;
const PKCS1_ENCRYPTED_HEADER = /^Proc-Type:\s*4,ENCRYPTED/m;
const OPENSSH_PUBLIC_LINE = /^\s*(?:ssh-|ecdsa-|sk-)\S+\s+AAAA/;
const OPENSSH_MAGIC = 'openssh-key-v1\0';
const RSA_ENCRYPTION_OID = '1.2.840.113549.1.1.1';

const OTHER_TYPES_BY_PEM_LABEL: Readonly<Record<string, string>> = { 'EC PRIVATE KEY': 'ECDSA', 'DSA PRIVATE KEY': 'DSA' };
const OTHER_TYPES_BY_OID: Readonly<Record<string, string>> = {
  '1.2.840.10045.2.1': 'ECDSA',
  '1.2.840.10040.4.1': 'DSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
  '1.2.840.113549.1.1.10': 'RSA-PSS (signing only)',
};
const OTHER_TYPES_BY_SSH_NAME: Readonly<Record<string, string>> = {
  'ssh-ed25519': 'Ed25519',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
};

const SUPPORTED =
  'expected an unencrypted RSA private key: PEM (`BEGIN RSA PRIVATE KEY`, `BEGIN PRIVATE KEY`) ' +
  'or OpenSSH (`BEGIN OPENSSH PRIVATE KEY`), as `ssh-keygen` writes them.';

function invalidKey(message: string): PasswordCryptoError {
  return new PasswordCryptoError('ERR_INVALID_KEY', message);
}

function notRsa(typeName: string): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_NOT_RSA_KEY',
    `This is a private key of type ${typeName}; instance passwords are encrypted with RSA keys only. ` +
      "Use the RSA private key matching the instance's public key.",
  );
}

function encryptedKey(): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_ENCRYPTED_KEY',
    'This private key is protected by a passphrase, which the page does not ask for. Decrypt on your own ' +
      'machine instead: `metadata-password decrypt --key FILE` (it asks for the passphrase), or ' +
      '`metadata-password get --url ... --server ... --key FILE`.',
  );
}

function damaged(format: string): PasswordCryptoError {
  return invalidKey(`The ${format} private key does not parse: check that the file is whole. ${SUPPORTED}`);
}

function weakKey(why: string): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_WEAK_KEY',
    `This RSA key is refused: ${why}. Create a new key with \`ssh-keygen -t rsa -b 4096\`.`,
  );
}

/** The key, once its numbers are fit to compute with (checked first: no exponentiation before) and consistent. */
function checked(key: RsaPrivateKey, format: string): RsaPrivateKey {
  const why = weakness(key);
  if (why !== undefined) throw weakKey(why);
  if (!isConsistent(key)) throw damaged(format);
  return key;
}

/** PKCS#1 `RSAPrivateKey`: version, n, e, d, p, q, dp, dq, qi. */
function readPkcs1(der: Uint8Array): RsaPrivateKey {
  const fields = new DerReader(der).sequence();
  if (fields.unsignedInteger() !== 0n) throw new DerError('not a two-prime RSA key');
  const [n, e, d, p, q, dp, dq, qi] = Array.from({ length: 8 }, () => fields.unsignedInteger());
  return { n, e, d, p, q, dp, dq, qi };
}

/** PKCS#8 `PrivateKeyInfo`: version, algorithm, and the PKCS#1 key in an OCTET STRING. */
function readPkcs8(der: Uint8Array): RsaPrivateKey {
  const info = new DerReader(der).sequence();
  info.unsignedInteger();
  const oid = info.sequence().objectIdentifier();
  if (oid in OTHER_TYPES_BY_OID) throw notRsa(OTHER_TYPES_BY_OID[oid]);
  if (oid !== RSA_ENCRYPTION_OID) throw notRsa(`OID ${oid}`);
  return readPkcs1(info.expect(DER_TAG.OCTET_STRING));
}

/** `openssh-key-v1` (OpenSSH's PROTOCOL.key): one unencrypted key, its private section checked. */
function readOpenSsh(blob: Uint8Array): RsaPrivateKey {
  const magic = String.fromCharCode(...blob.subarray(0, OPENSSH_MAGIC.length));
  if (magic !== OPENSSH_MAGIC) throw new SshWireError('not openssh-key-v1');
  const outer = new SshWireReader(blob.subarray(OPENSSH_MAGIC.length));
  const cipher = outer.text();
  const kdf = outer.text();
  outer.string();
  if (cipher !== 'none' || kdf !== 'none') throw encryptedKey();
  if (outer.uint32() !== 1) throw new SshWireError('not exactly one key');
  outer.string();
  const inner = new SshWireReader(outer.string());
  if (inner.uint32() !== inner.uint32()) throw new SshWireError('check values differ');
  const type = inner.text();
  if (type in OTHER_TYPES_BY_SSH_NAME) throw notRsa(OTHER_TYPES_BY_SSH_NAME[type]);
  if (type !== 'ssh-rsa') throw notRsa(type);
  const [n, e, d, qi, p, q] = Array.from({ length: 6 }, () => inner.unsignedMpint());
  inner.string();
  const padding = inner.rest;
  if (padding.some((byte, index) => byte !== index + 1)) throw new SshWireError('bad padding');
  if (p < 2n || q < 2n) throw new SshWireError('not primes');
  return { n, e, d, p, q, dp: d % (p - 1n), dq: d % (q - 1n), qi };
}

function body(base64: string, format: string): Uint8Array {
  const bytes = decodeBase64(base64);
  if (bytes === undefined) throw damaged(format);
  return bytes;
}

function parse(label: string, pem: string, base64: string): RsaPrivateKey {
  if (label === 'OPENSSH PRIVATE KEY') return checked(readOpenSsh(body(base64, 'OpenSSH')), 'OpenSSH');
  if (label === 'PRIVATE KEY') return checked(readPkcs8(body(base64, 'PKCS#8')), 'PKCS#8');
  if (label === 'RSA PRIVATE KEY') {
    if (PKCS1_ENCRYPTED_HEADER.test(pem)) throw encryptedKey();
    return checked(readPkcs1(body(base64.replace(PEM_HEADER, ''), 'PKCS#1')), 'PKCS#1');
  }
  if (label === 'ENCRYPTED PRIVATE KEY') throw encryptedKey();
  if (label in OTHER_TYPES_BY_PEM_LABEL) throw notRsa(OTHER_TYPES_BY_PEM_LABEL[label]);
  if (label.includes('PUBLIC KEY')) throw publicKeyGiven();
  throw invalidKey(`Not a private key this page reads (\`BEGIN ${label}\`): ${SUPPORTED}`);
}

function publicKeyGiven(): PasswordCryptoError {
  return invalidKey('This is a public key; decrypting needs the private key (the key file without `.pub`).');
}

/**
 * Reads an unencrypted RSA private key: PEM PKCS#1 or PKCS#8, or OpenSSH. Throws
 * `PasswordCryptoError` `ERR_INVALID_KEY`, `ERR_NOT_RSA_KEY`, `ERR_WEAK_KEY` or `ERR_ENCRYPTED_KEY`.
 */
export function readPrivateKey(text: unknown): RsaPrivateKey {
  if (typeof text !== 'string') throw invalidKey(`The private key must be a string: ${SUPPORTED}`);
  const block = PEM_BLOCK.exec(text);
  if (block === null) {
    if (OPENSSH_PUBLIC_LINE.test(text)) throw publicKeyGiven();
    if (text.startsWith('PuTTY-User-Key-File')) {
      throw invalidKey(`This is a PuTTY key: export it with PuTTYgen (Conversions, Export OpenSSH key); ${SUPPORTED}`);
    }
    throw invalidKey(`Not a private key this page reads: ${SUPPORTED}`);
  }
  const [pem, label, base64] = block;
  try {
    return parse(label, pem, base64);
  } catch (error) {
    if (error instanceof DerError || error instanceof SshWireError) {
      throw damaged(label === 'OPENSSH PRIVATE KEY' ? 'OpenSSH' : label === 'PRIVATE KEY' ? 'PKCS#8' : 'PKCS#1');
    }
    throw error;
  }
}
