import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PasswordPadding } from '../../lib/crypto';
import { waitForRunFile } from './run-files';

const run = promisify(execFile);

/** The passphrase of every encrypted test key (ssh-keygen wants at least five characters). */
export const KEY_PASSPHRASE = 'correct horse battery staple';

/** The private key formats `ssh-keygen` writes: its default, `-m PEM` and `-m PKCS8`. */
export type PrivateKeyFormat = 'openssh' | 'pem' | 'pkcs8';

const SSH_KEYGEN_FORMAT: Record<PrivateKeyFormat, string> = { openssh: 'RFC4716', pem: 'PEM', pkcs8: 'PKCS8' };

/** One private key file of a key set. */
export interface PrivateKeyFile {
  readonly format: PrivateKeyFormat;
  readonly passphrase: string | undefined;
  readonly path: string;
  readonly text: string;
}

/** One RSA key, written by ssh-keygen in every form the tests need. */
export interface RsaKeySet {
  readonly bits: number;
  /** The `ssh-rsa AAAA... comment` line of the `.pub` file. */
  readonly sshPublicLine: string;
  /** `ssh-keygen -e -m PKCS8`: `BEGIN PUBLIC KEY`. */
  readonly spkiPem: string;
  /** `ssh-keygen -e -m PEM`: `BEGIN RSA PUBLIC KEY`. */
  readonly pkcs1PublicPem: string;
  /** A public key file openssl reads (`-pubin`). */
  readonly spkiPath: string;
  /** An unencrypted PKCS#8 private key file openssl reads. */
  readonly opensslPrivatePath: string;
  /** The same private key in each format, with and without passphrase. */
  readonly privateKeys: readonly PrivateKeyFile[];
}

/** A fresh temporary directory for one suite's keys; remove it with `removeKeyDir`. */
export function makeKeyDir(): string {
  return mkdtempSync(join(tmpdir(), 'mdpw-keys-'));
}

/** Removes a directory made by `makeKeyDir`. */
export function removeKeyDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/**
 * The bcrypt rounds of the encrypted OpenSSH test keys: ssh-keygen's default is 16, and each round
 * costs about 20 ms of CPU in sshpk's JavaScript bcrypt at every decryption. The key file names its
 * rounds, and the code that reads it is the same whatever their number.
 */
const OPENSSH_KDF_ROUNDS = '2';

async function rewriteKey(
  source: string,
  target: string,
  format: PrivateKeyFormat,
  passphrase: string,
): Promise<void> {
  copyFileSync(source, target);
  const rounds = format === 'openssh' && passphrase !== '' ? ['-a', OPENSSH_KDF_ROUNDS] : [];
  await run('ssh-keygen', ['-q', '-p', '-f', target, '-P', '', '-N', passphrase, '-m', SSH_KEYGEN_FORMAT[format], ...rounds]);
}

/** The variable naming the directory of the key sets made once per run (`global-keys-setup.ts`). */
export const RUN_KEYS_VARIABLE = 'MDPW_TEST_KEYS_DIR';
/** Set to `1` when the run made that directory (and removes it), not a directory given from outside. */
export const RUN_KEYS_MADE_VARIABLE = `${RUN_KEYS_VARIABLE}_MADE_BY_RUN`;

const doneMarker = (dir: string, name: string): string => join(dir, `done-${name}`);
const failedMarker = (dir: string, name: string): string => join(dir, `failed-${name}`);

/** Marks a key set of the run as made, or as failed with `error`, for `makeRsaKeySet` waiting on it. */
export function runKeySetDone(dir: string, name: string, error?: unknown): void {
  if (error === undefined) writeFileSync(doneMarker(dir, name), '');
  else writeFileSync(failedMarker(dir, name), `the run could not make its ${name} key: ${String(error)}`);
}

/** The key sets `global-keys-setup.ts` makes once per run: every name the suites ask for. */
export const RUN_KEY_SETS: readonly { readonly bits: number; readonly name: string }[] = [
  ...[1024, 2048, 3072, 4096].map((bits) => ({ bits, name: `rsa-${bits}` })),
  { bits: 1024, name: 'other-rsa-1024' },
  { bits: 2048, name: 'other-rsa-2048' },
  { bits: 1024, name: 'modulus-1024' },
];

/**
 * One RSA key (files named after `name`) in `dir`: copied from the keys made once per run when the
 * run made one of that name and size, generated otherwise (`generateRsaKeySet`).
 */
export async function makeRsaKeySet(dir: string, bits: number, name = `rsa-${bits}`): Promise<RsaKeySet> {
  const runDir = process.env[RUN_KEYS_VARIABLE];
  const made = runDir !== undefined && RUN_KEY_SETS.some((set) => set.bits === bits && set.name === name);
  // globalSetup makes them while the suites start: wait for this one.
  if (made && process.env[RUN_KEYS_MADE_VARIABLE] === '1') {
    await waitForRunFile(doneMarker(runDir, name), failedMarker(runDir, name), 120_000, `the run's ${name} key`);
  }
  else if (!made || !existsSync(join(runDir, `${name}.pub`))) return generateRsaKeySet(dir, bits, name);
  for (const file of readdirSync(runDir).filter((entry) => entry.startsWith(`${name}.`) || entry.startsWith(`${name}-`))) {
    copyFileSync(join(runDir, file), join(dir, file));
  }
  return readRsaKeySet(dir, bits, name);
}

/**
 * Generates one RSA key (files named after `name`) with `ssh-keygen -t rsa` and has ssh-keygen write it again in each private
 * format, with and without passphrase (`ssh-keygen -p -m FORMAT -N ...`, the writer generation uses):
 * one key generation per size instead of six, which matters at 4096 bits.
 */
export async function generateRsaKeySet(dir: string, bits: number, name = `rsa-${bits}`): Promise<RsaKeySet> {
  const base = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', String(bits), '-N', '', '-C', `test-${bits}`, '-f', base]);
  for (const format of ['openssh', 'pem', 'pkcs8'] as const) {
    for (const passphrase of [undefined, KEY_PASSPHRASE]) {
      await rewriteKey(base, privateKeyPath(base, format, passphrase), format, passphrase ?? '');
    }
  }
  writeFileSync(`${base}.spki.pem`, await exportPublic(base, 'PKCS8'));
  writeFileSync(`${base}.pkcs1.pem`, await exportPublic(base, 'PEM'));
  return readRsaKeySet(dir, bits, name);
}

function privateKeyPath(base: string, format: PrivateKeyFormat, passphrase: string | undefined): string {
  return `${base}-${format}${passphrase === undefined ? '' : '-encrypted'}`;
}

async function exportPublic(base: string, format: string): Promise<string> {
  return (await run('ssh-keygen', ['-e', '-m', format, '-f', `${base}.pub`])).stdout;
}

/** The key set `generateRsaKeySet` wrote in `dir` under `name`. */
function readRsaKeySet(dir: string, bits: number, name: string): RsaKeySet {
  const base = join(dir, name);
  const privateKeys: PrivateKeyFile[] = [];
  for (const format of ['openssh', 'pem', 'pkcs8'] as const) {
    for (const passphrase of [undefined, KEY_PASSPHRASE]) {
      const path = privateKeyPath(base, format, passphrase);
      privateKeys.push({ format, passphrase, path, text: readFileSync(path, 'utf8') });
    }
  }
  const spkiPath = `${base}.spki.pem`;
  return {
    bits,
    sshPublicLine: readFileSync(`${base}.pub`, 'utf8').trim(),
    spkiPem: readFileSync(spkiPath, 'utf8'),
    pkcs1PublicPem: readFileSync(`${base}.pkcs1.pem`, 'utf8'),
    spkiPath,
    opensslPrivatePath: privateKeys.find((key) => key.format === 'pkcs8' && key.passphrase === undefined)!.path,
    privateKeys,
  };
}

/** A key of another type, for the "not RSA" errors. */
export interface OtherKey {
  readonly sshPublicLine: string;
  readonly privateKeyText: string;
}

/** Generates an ed25519 or ECDSA key with ssh-keygen (which writes ed25519 private keys as OpenSSH only). */
export async function makeOtherKey(
  dir: string,
  type: 'ed25519' | 'ecdsa',
  format: PrivateKeyFormat,
): Promise<OtherKey> {
  const path = join(dir, `${type}-${format}`);
  await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-m', SSH_KEYGEN_FORMAT[format], '-f', path]);
  return { sshPublicLine: readFileSync(`${path}.pub`, 'utf8').trim(), privateKeyText: readFileSync(path, 'utf8') };
}

const OPENSSL_PADDING: Record<PasswordPadding, string[]> = {
  pkcs1: ['-pkeyopt', 'rsa_padding_mode:pkcs1'],
  'oaep-sha256': [
    '-pkeyopt',
    'rsa_padding_mode:oaep',
    '-pkeyopt',
    'rsa_oaep_md:sha256',
    '-pkeyopt',
    'rsa_mgf1_md:sha256',
  ],
};

/** `openssl pkeyutl -encrypt` with a public key file; returns base64. */
export function opensslEncrypt(publicKeyPath: string, plaintext: Buffer, padding: PasswordPadding): string {
  const args = ['pkeyutl', '-encrypt', '-pubin', '-inkey', publicKeyPath, ...OPENSSL_PADDING[padding]];
  return execFileSync('openssl', args, { input: plaintext }).toString('base64');
}

/** `openssl pkeyutl -decrypt` with an unencrypted private key file. */
export function opensslDecrypt(privateKeyPath: string, base64: string, padding: PasswordPadding): Buffer {
  const args = ['pkeyutl', '-decrypt', '-inkey', privateKeyPath, ...OPENSSL_PADDING[padding]];
  return execFileSync('openssl', args, { input: Buffer.from(base64, 'base64'), stdio: ['pipe', 'pipe', 'pipe'] });
}

/* Keys no careful generator makes, for the refusals: built from raw numbers, or by openssl with odd settings. */

/** The forms of an RSA public key `encryptPassword` reads. */
export interface RsaPublicKeyForms {
  readonly sshPublicLine: string;
  readonly spkiPem: string;
  readonly pkcs1PublicPem: string;
}

/** An SSH mpint (RFC 4251): big-endian, no leading zeros, a zero byte in front when the top bit is set. */
function sshMpint(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const magnitude = value.subarray(start);
  return (magnitude[0] & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
}

function sshString(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

function bigEndian(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

/** The `ssh-rsa` line of modulus `n` and exponent `e`, written field by field as RFC 4253 has it. */
export function sshRsaLine(n: Buffer, e: bigint, comment = 'built-from-numbers'): string {
  const fields = [Buffer.from('ssh-rsa'), sshMpint(bigEndian(e)), sshMpint(n)];
  const blob = Buffer.concat(fields.map(sshString));
  return `ssh-rsa ${blob.toString('base64')} ${comment}`;
}

/** A public key of modulus `n` and exponent `e` in every form, whatever the numbers are worth. */
export function rsaPublicKeyFromNumbers(n: Buffer, e: bigint): RsaPublicKeyForms {
  const key = createPublicKey({
    key: { kty: 'RSA', n: n.toString('base64url'), e: bigEndian(e).toString('base64url') },
    format: 'jwk',
  });
  return {
    sshPublicLine: sshRsaLine(n, e),
    spkiPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    pkcs1PublicPem: key.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/**
 * A random odd number of exactly `bits` bits: a modulus nobody holds the factors of. Enough to
 * encrypt with, and to test the size rules at sizes no generator makes in reasonable time.
 */
export function syntheticModulus(bits: number): Buffer {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const topBit = (bits - 1) % 8;
  bytes[0] = (bytes[0] & ((1 << topBit) - 1)) | (1 << topBit);
  bytes[bytes.length - 1] |= 1;
  return bytes;
}

/** The modulus of a public key file, as `openssl rsa -modulus` prints it. */
export function opensslModulus(publicKeyPath: string): Buffer {
  const out = execFileSync('openssl', ['rsa', '-pubin', '-in', publicKeyPath, '-noout', '-modulus']).toString();
  return Buffer.from(/Modulus=([0-9A-F]+)/.exec(out)![1], 'hex');
}

/** An RSA key made by `openssl genpkey`, with any size and public exponent openssl allows. */
export interface OpensslRsaKey {
  /** The PKCS#8 private key (`BEGIN PRIVATE KEY`). */
  readonly privatePem: string;
  readonly privatePath: string;
  readonly spkiPem: string;
  readonly spkiPath: string;
}

/** Generates a key with `openssl genpkey -algorithm RSA` (as small as 512 bits, exponent as given). */
export async function makeOpensslRsaKey(dir: string, bits: number, exponent = 65537): Promise<OpensslRsaKey> {
  const privatePath = join(dir, `openssl-rsa-${bits}-e${exponent}.pem`);
  const spkiPath = `${privatePath}.pub`;
  const options = ['-pkeyopt', `rsa_keygen_bits:${bits}`, '-pkeyopt', `rsa_keygen_pubexp:${exponent}`];
  await run('openssl', ['genpkey', '-algorithm', 'RSA', ...options, '-out', privatePath]);
  await run('openssl', ['pkey', '-in', privatePath, '-pubout', '-out', spkiPath]);
  const read = (path: string) => readFileSync(path, 'utf8');
  return { privatePem: read(privatePath), privatePath, spkiPem: read(spkiPath), spkiPath };
}

/**
 * A PKCS#1 private key of the same primes as `privatePem` but public exponent `e` (and d, dp, dq of
 * 1): what a hand-edited or broken generator gives. `n` replaces the modulus when given.
 */
export function privateKeyWithNumbers(privatePem: string, e: bigint, n?: Buffer): string {
  const jwk = createPrivateKey(privatePem).export({ format: 'jwk' });
  const one = Buffer.from([1]).toString('base64url');
  const modulus = n === undefined ? {} : { n: n.toString('base64url') };
  return createPrivateKey({
    key: { ...jwk, ...modulus, e: bigEndian(e).toString('base64url'), d: one, dp: one, dq: one },
    format: 'jwk',
  })
    .export({ type: 'pkcs1', format: 'pem' })
    .toString();
}

/** A number of a private key that can be made long without changing what the key computes. */
export type LongKeyNumber = 'e' | 'd' | 'dp' | 'dq' | 'qi';

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? a : gcd(b, a % b);
}

/**
 * The key of `privatePem` with one number made long, built from raw numbers: e + k lambda(n),
 * d + k lambda(n), dp + k (p - 1), dq + k (q - 1) or qi + k p, with k = 2^`extraBits`. The key still
 * computes the same (the added multiple vanishes in every exponentiation, and in the CRT step when
 * qi is reduced mod p, as BigInt code does), but each exponentiation takes as long as the number is
 * long: what a hostile key file holds to make decryption slow. Returned as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), with its public half.
 */
export function keyWithLongNumber(
  privatePem: string,
  which: LongKeyNumber,
  extraBits: number,
): { privatePem: string; publicPem: string } {
  const jwk = createPrivateKey(privatePem).export({ format: 'jwk' });
  const number = (name: string) => BigInt(`0x${Buffer.from(jwk[name as keyof typeof jwk] as string, 'base64url').toString('hex')}`);
  const [p, q] = [number('p'), number('q')];
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const k = 1n << BigInt(extraBits);
  const step: Record<LongKeyNumber, bigint> = { e: lambda, d: lambda, dp: p - 1n, dq: q - 1n, qi: p };
  const long = number(which) + k * step[which];
  const key = createPrivateKey({ key: { ...jwk, [which]: bigEndian(long).toString('base64url') }, format: 'jwk' });
  return {
    privatePem: key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
}
