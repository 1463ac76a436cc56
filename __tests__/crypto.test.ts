import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PasswordCryptoError,
  decryptPassword,
  encryptPassword,
  type PasswordCryptoErrorCode,
  type PasswordPadding,
} from '../lib/crypto';
import { rsaPublicKeyOf } from '../lib/crypto/public-key';
import { OptionsError } from '../lib/core/options';
import {
  KEY_PASSPHRASE,
  makeKeyDir,
  makeOpensslRsaKey,
  makeOtherKey,
  makeRsaKeySet,
  opensslDecrypt,
  opensslEncrypt,
  opensslModulus,
  keyWithLongNumber,
  privateKeyWithNumbers,
  removeKeyDir,
  rsaPublicKeyFromNumbers,
  sshRsaLine,
  syntheticModulus,
  type OpensslRsaKey,
  type OtherKey,
  type PrivateKeyFormat,
  type RsaKeySet,
} from './helpers/crypto-keys';

const PASSWORD = 'Pä$$w0rd — 日本語 ✓';
const SIZES = [2048, 3072, 4096] as const;
const FORMATS: readonly PrivateKeyFormat[] = ['openssh', 'pem', 'pkcs8'];
const PADDINGS: readonly PasswordPadding[] = ['pkcs1', 'oaep-sha256'];
const PUBLIC_FORMS = ['ssh-rsa line', 'SPKI PEM', 'PKCS#1 PEM'] as const;

let dir: string | undefined;
const keySets = new Map<number, RsaKeySet>();
let otherRsa2048: RsaKeySet;
let ed25519: OtherKey;
let ecdsaPem: OtherKey;
let ecdsaPkcs8: OtherKey;

beforeAll(async () => {
  dir = makeKeyDir();
  const keyDir = dir;
  const sets = await Promise.all(SIZES.map((bits) => makeRsaKeySet(keyDir, bits)));
  for (const set of sets) keySets.set(set.bits, set);
  [otherRsa2048, ed25519, ecdsaPem, ecdsaPkcs8] = await Promise.all([
    makeRsaKeySet(keyDir, 2048, 'other-rsa-2048'),
    makeOtherKey(keyDir, 'ed25519', 'openssh'),
    makeOtherKey(keyDir, 'ecdsa', 'pem'),
    makeOtherKey(keyDir, 'ecdsa', 'pkcs8'),
  ]);
}, 60_000);

afterAll(() => removeKeyDir(dir));

function keySet(bits: number): RsaKeySet {
  const set = keySets.get(bits);
  if (set === undefined) throw new Error(`no ${bits}-bit key set: did beforeAll fail?`);
  return set;
}

function privateKey(bits: number, format: PrivateKeyFormat, encrypted: boolean) {
  const key = keySet(bits).privateKeys.find(
    (candidate) => candidate.format === format && (candidate.passphrase !== undefined) === encrypted,
  );
  if (key === undefined) throw new Error(`no ${bits}-bit ${format} key (encrypted: ${encrypted})`);
  return key;
}

function publicKeyText(set: RsaKeySet, form: (typeof PUBLIC_FORMS)[number]): string {
  if (form === 'ssh-rsa line') return set.sshPublicLine;
  return form === 'SPKI PEM' ? set.spkiPem : set.pkcs1PublicPem;
}

/** Secret material that must never appear in an error message. */
function secrets(): string[] {
  const keyBody = privateKey(2048, 'pem', false).text.split('\n')[5];
  return [PASSWORD, KEY_PASSPHRASE, 'not the passphrase', keyBody];
}

function expectCryptoError(call: () => unknown, code: PasswordCryptoErrorCode): PasswordCryptoError {
  let thrown: unknown;
  try {
    const result = call();
    thrown = new Error(`expected ${code}, but the call returned ${typeof result}`);
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof PasswordCryptoError)) throw thrown;
  expect(thrown.code).toBe(code);
  for (const secret of secrets()) expect(thrown.message).not.toContain(secret);
  return thrown;
}

/** The bcrypt rounds of an encrypted OpenSSH private key (PROTOCOL.key: cipher, kdf name, kdf options). */
function opensshKdfRounds(text: string): number {
  const body = Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  let at = 'openssh-key-v1\0'.length;
  const next = (): Buffer => {
    const length = body.readUInt32BE(at);
    at += 4 + length;
    return body.subarray(at - length, at);
  };
  next();
  next();
  const options = next();
  return options.readUInt32BE(4 + options.readUInt32BE(0));
}

describe('interoperability with openssl pkeyutl', () => {
  const decryptCases = SIZES.flatMap((bits) =>
    FORMATS.flatMap((format) =>
      [false, true].flatMap((encrypted) => PADDINGS.map((padding) => ({ bits, format, encrypted, padding }))),
    ),
  );

  test.each(decryptCases)(
    'openssl $padding ciphertext decrypts with the $bits-bit $format private key (encrypted: $encrypted)',
    ({ bits, format, encrypted, padding }) => {
      const key = privateKey(bits, format, encrypted);
      const ciphertext = opensslEncrypt(keySet(bits).spkiPath, Buffer.from(PASSWORD), padding);
      expect(decryptPassword(ciphertext, key.text, { padding, passphrase: key.passphrase })).toBe(PASSWORD);
    },
  );

  test("an encrypted OpenSSH key as ssh-keygen writes it by default (bcrypt, 16 rounds) decrypts", () => {
    // The test keys use 2 rounds (crypto-keys.ts); this one has the default a user's key has.
    const path = join(dir as string, 'default-rounds');
    copyFileSync(privateKey(2048, 'openssh', false).path, path);
    execFileSync('ssh-keygen', ['-q', '-p', '-f', path, '-P', '', '-N', KEY_PASSPHRASE]);
    const text = readFileSync(path, 'utf8');
    expect(opensshKdfRounds(text)).toBe(16);
    expect(opensshKdfRounds(privateKey(2048, 'openssh', true).text)).toBe(2);
    const ciphertext = opensslEncrypt(keySet(2048).spkiPath, Buffer.from(PASSWORD), 'pkcs1');
    expect(decryptPassword(ciphertext, text, { passphrase: KEY_PASSPHRASE })).toBe(PASSWORD);
  });

  const encryptCases = SIZES.flatMap((bits) =>
    PUBLIC_FORMS.flatMap((form) => PADDINGS.map((padding) => ({ bits, form, padding }))),
  );

  test.each(encryptCases)(
    'encryptPassword with the $bits-bit $form ($padding) decrypts with openssl',
    ({ bits, form, padding }) => {
      const set = keySet(bits);
      const ciphertext = encryptPassword(PASSWORD, publicKeyText(set, form), { padding });
      expect(Buffer.from(ciphertext, 'base64')).toHaveLength(bits / 8);
      expect(opensslDecrypt(set.opensslPrivatePath, ciphertext, padding).toString('utf8')).toBe(PASSWORD);
    },
  );
});

describe('encryptPassword', () => {
  test('defaults to PKCS#1 v1.5, the padding cloudbase-init and Nova use', () => {
    const set = keySet(2048);
    const ciphertext = encryptPassword(PASSWORD, set.sshPublicLine);
    expect(opensslDecrypt(set.opensslPrivatePath, ciphertext, 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('is randomised: the same password encrypts differently each time', () => {
    const line = keySet(2048).sshPublicLine;
    expect(encryptPassword(PASSWORD, line)).not.toBe(encryptPassword(PASSWORD, line));
  });

  test.each([
    ['pkcs1', 245],
    ['oaep-sha256', 190],
  ] as const)('with %s fills a 2048-bit block up to %i bytes and refuses one more', (padding, limit) => {
    const set = keySet(2048);
    const longest = 'a'.repeat(limit);
    const ciphertext = encryptPassword(longest, set.sshPublicLine, { padding });
    expect(opensslDecrypt(set.opensslPrivatePath, ciphertext, padding).toString('utf8')).toBe(longest);
    const error = expectCryptoError(
      () => encryptPassword(`${longest}a`, set.sshPublicLine, { padding }),
      'ERR_PASSWORD_TOO_LONG',
    );
    expect(error.message).toContain(`at most ${limit}`);
  });

  test.each([
    ['ed25519', () => ed25519.sshPublicLine],
    ['ECDSA', () => ecdsaPem.sshPublicLine],
  ])('refuses an %s public key with ERR_NOT_RSA_KEY', (_name, publicKey) => {
    const error = expectCryptoError(() => encryptPassword(PASSWORD, publicKey()), 'ERR_NOT_RSA_KEY');
    expect(error.message).toContain('ssh-keygen -t rsa');
  });

  test('refuses a private key in place of the public key', () => {
    for (const format of FORMATS) {
      const error = expectCryptoError(
        () => encryptPassword(PASSWORD, privateKey(2048, format, false).text),
        'ERR_INVALID_KEY',
      );
      expect(error.message).toContain('.pub');
    }
  });

  test('refuses text that is not one public key', () => {
    const line = keySet(2048).sshPublicLine;
    expectCryptoError(() => encryptPassword(PASSWORD, 'hello'), 'ERR_INVALID_KEY');
    expectCryptoError(() => encryptPassword(PASSWORD, `${line}\n${otherRsa2048.sshPublicLine}\n`), 'ERR_INVALID_KEY');
    expectCryptoError(() => encryptPassword(PASSWORD, line.slice(0, 60)), 'ERR_INVALID_KEY');
    expectCryptoError(() => encryptPassword(PASSWORD, '-----BEGIN CERTIFICATE-----\nAAAA\n'), 'ERR_INVALID_KEY');
  });

  test('accepts an authorized_keys line with comment lines and blank lines around it', () => {
    const set = keySet(2048);
    const ciphertext = encryptPassword(PASSWORD, `# owner key\n\n${set.sshPublicLine}\n`);
    expect(opensslDecrypt(set.opensslPrivatePath, ciphertext, 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test.each([
    ['an empty password', ''],
    ['a NUL character', 'pass\u0000word'],
    ['an escape character', 'pass\u001bword'],
    ['a lone surrogate', 'pass\ud800word'],
  ])('refuses %s with ERR_INVALID_PASSWORD', (_case, password) => {
    expectCryptoError(() => encryptPassword(password, keySet(2048).sshPublicLine), 'ERR_INVALID_PASSWORD');
  });

  test('refuses unknown and invalid options with an OptionsError', () => {
    const line = keySet(2048).sshPublicLine;
    expect(() => encryptPassword(PASSWORD, line, { paddng: 'pkcs1' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION', message: expect.stringContaining('`padding`') }),
    );
    expect(() => encryptPassword(PASSWORD, line, { padding: 'oaep' as PasswordPadding })).toThrow(OptionsError);
  });
});

describe('decryptPassword', () => {
  const pkcs1Ciphertext = () => opensslEncrypt(keySet(2048).spkiPath, Buffer.from(PASSWORD), 'pkcs1');
  const pemKey = () => privateKey(2048, 'pem', false).text;

  test('accepts the private key as a Buffer', () => {
    expect(decryptPassword(pkcs1Ciphertext(), Buffer.from(pemKey()))).toBe(PASSWORD);
  });

  test('ignores whitespace and line breaks in the base64', () => {
    const wrapped = `  ${pkcs1Ciphertext().replace(/.{64}/g, '$&\r\n')}\n\t`;
    expect(decryptPassword(wrapped, pemKey())).toBe(PASSWORD);
  });

  test('ignores a passphrase for a key without one', () => {
    expect(decryptPassword(pkcs1Ciphertext(), pemKey(), { passphrase: 'unused' })).toBe(PASSWORD);
  });

  test('keeps tab, CR and LF in the password', () => {
    const password = 'line one\r\n\tline two\n';
    const ciphertext = opensslEncrypt(keySet(2048).spkiPath, Buffer.from(password), 'pkcs1');
    expect(decryptPassword(ciphertext, pemKey())).toBe(password);
  });

  test('a wrong key of the same size never returns a string', () => {
    const wrongKey = otherRsa2048.privateKeys.find((key) => key.format === 'pem' && !key.passphrase)!.text;
    const spkiPath = keySet(2048).spkiPath;
    for (let attempt = 0; attempt < 25; attempt++) {
      const ciphertext = opensslEncrypt(spkiPath, Buffer.from(`${PASSWORD} ${attempt}`), 'pkcs1');
      expectCryptoError(() => decryptPassword(ciphertext, wrongKey), 'ERR_DECRYPTION_FAILED');
    }
  });

  test('a wrong key of another size is ERR_KEY_SIZE_MISMATCH', () => {
    const error = expectCryptoError(
      () => decryptPassword(pkcs1Ciphertext(), privateKey(3072, 'pem', false).text),
      'ERR_KEY_SIZE_MISMATCH',
    );
    expect(error.message).toMatch(/256 bytes.*3072-bit/);
  });

  test.each([
    ['pkcs1', 'oaep-sha256'],
    ['oaep-sha256', 'pkcs1'],
  ] as const)('%s ciphertext read as %s is ERR_DECRYPTION_FAILED', (made, read) => {
    const ciphertext = opensslEncrypt(keySet(2048).spkiPath, Buffer.from(PASSWORD), made);
    expectCryptoError(() => decryptPassword(ciphertext, pemKey(), { padding: read }), 'ERR_DECRYPTION_FAILED');
  });

  test.each([
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x41, 0xc3])],
    ['control characters', Buffer.from('pass\u0000\u0001word')],
  ])('a block with valid padding holding %s is ERR_DECRYPTION_FAILED, not garbage', (_case, plaintext) => {
    const ciphertext = opensslEncrypt(keySet(2048).spkiPath, plaintext, 'pkcs1');
    expectCryptoError(() => decryptPassword(ciphertext, pemKey()), 'ERR_DECRYPTION_FAILED');
  });

  test('an altered ciphertext is ERR_DECRYPTION_FAILED', () => {
    const bytes = Buffer.from(pkcs1Ciphertext(), 'base64');
    bytes[100] ^= 0x5a;
    expectCryptoError(() => decryptPassword(bytes.toString('base64'), pemKey()), 'ERR_DECRYPTION_FAILED');
  });

  test('a truncated ciphertext is ERR_KEY_SIZE_MISMATCH, or ERR_CORRUPT_CIPHERTEXT when the base64 breaks', () => {
    const ciphertext = pkcs1Ciphertext();
    expectCryptoError(() => decryptPassword(ciphertext.slice(0, -4), pemKey()), 'ERR_KEY_SIZE_MISMATCH');
    expectCryptoError(() => decryptPassword(ciphertext.slice(0, -1), pemKey()), 'ERR_CORRUPT_CIPHERTEXT');
  });

  test.each([
    ['empty', () => ''],
    ['only whitespace', () => ' \n '],
    ['not base64', () => 'not base64!'],
    ['quoted', () => `"${pkcs1Ciphertext()}"`],
    ['base64url', () => pkcs1Ciphertext().replace(/\+/g, '-').replace(/\//g, '_')],
    ['missing its padding', () => pkcs1Ciphertext().replace(/=+$/, '')],
    ['not canonical', () => pkcs1Ciphertext().replace(/.==$/, 'B==')],
  ])('a ciphertext %s is ERR_CORRUPT_CIPHERTEXT', (_case, ciphertext) => {
    expectCryptoError(() => decryptPassword(ciphertext(), pemKey()), 'ERR_CORRUPT_CIPHERTEXT');
  });

  test.each(FORMATS)('an encrypted %s key without passphrase is ERR_PASSPHRASE_REQUIRED', (format) => {
    const key = privateKey(2048, format, true).text;
    expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), key), 'ERR_PASSPHRASE_REQUIRED');
  });

  test.each(FORMATS)('an encrypted %s key with a wrong passphrase is ERR_WRONG_PASSPHRASE', (format) => {
    const key = privateKey(2048, format, true).text;
    for (const passphrase of ['not the passphrase', '']) {
      expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), key, { passphrase }), 'ERR_WRONG_PASSPHRASE');
    }
  });

  test.each([
    ['ed25519 (OpenSSH)', () => ed25519.privateKeyText],
    ['ECDSA (PEM)', () => ecdsaPem.privateKeyText],
    ['ECDSA (PKCS#8)', () => ecdsaPkcs8.privateKeyText],
  ])('an %s private key is ERR_NOT_RSA_KEY', (_name, key) => {
    expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), key()), 'ERR_NOT_RSA_KEY');
  });

  test('a public key or other text in place of the private key is ERR_INVALID_KEY', () => {
    const set = keySet(2048);
    for (const text of [set.sshPublicLine, set.spkiPem, set.pkcs1PublicPem]) {
      const error = expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), text), 'ERR_INVALID_KEY');
      expect(error.message).toContain('private key');
    }
    expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), 'hello'), 'ERR_INVALID_KEY');
    const damaged = pemKey().replace(/\n[A-Za-z0-9+/]{20}/, '\n');
    expectCryptoError(() => decryptPassword(pkcs1Ciphertext(), damaged), 'ERR_INVALID_KEY');
  });

  test('refuses unknown and invalid options with an OptionsError', () => {
    expect(() => decryptPassword(pkcs1Ciphertext(), pemKey(), { passphrse: 'x' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_OPTION', message: expect.stringContaining('`passphrase`') }),
    );
    expect(() => decryptPassword(pkcs1Ciphertext(), pemKey(), { passphrase: 42 as never })).toThrow(OptionsError);
  });
});

describe('keys that protect nothing', () => {
  let rsa512: OpensslRsaKey;
  let exponent3: OpensslRsaKey;
  let rsa1024: RsaKeySet;

  beforeAll(async () => {
    const keyDir = dir!;
    [rsa512, exponent3, rsa1024] = await Promise.all([
      makeOpensslRsaKey(keyDir, 512),
      makeOpensslRsaKey(keyDir, 2048, 3),
      makeRsaKeySet(keyDir, 1024),
    ]);
  }, 60_000);

  const modulusOf2048 = () => opensslModulus(keySet(2048).spkiPath);
  const FORMS = ['sshPublicLine', 'spkiPem', 'pkcs1PublicPem'] as const;

  const refusedPublicKeys: Array<[string, () => ReturnType<typeof rsaPublicKeyFromNumbers>, RegExp]> = [
    ['a 512-bit key made by openssl', () => rsaPublicKeyFromNumbers(opensslModulus(rsa512.spkiPath), 65537n), /512 /],
    ['a 1023-bit modulus', () => rsaPublicKeyFromNumbers(syntheticModulus(1023), 65537n), /1023 bits; under 1024/],
    ['a 16385-bit modulus', () => rsaPublicKeyFromNumbers(syntheticModulus(16385), 65537n), /16385 bits, more than/],
    ['a 20000-bit modulus', () => rsaPublicKeyFromNumbers(syntheticModulus(20000), 65537n), /20000 bits/],
    ['public exponent 1', () => rsaPublicKeyFromNumbers(modulusOf2048(), 1n), /exponent is 1, which leaves/],
    ['public exponent 2', () => rsaPublicKeyFromNumbers(modulusOf2048(), 2n), /exponent is 2/],
    ['an even public exponent', () => rsaPublicKeyFromNumbers(modulusOf2048(), 65536n), /exponent is even/],
  ];

  const refusedPublicKeyForms = refusedPublicKeys.flatMap(([name, key, message]) =>
    FORMS.map((form) => [name, form, key, message] as const),
  );
  test.each(refusedPublicKeyForms)(
    'encryptPassword refuses %s (%s) with ERR_WEAK_KEY, never an OpenSSL error',
    (_name, form, key, message) => {
      const error = expectCryptoError(() => encryptPassword(PASSWORD.slice(0, 4), key()[form]), 'ERR_WEAK_KEY');
      expect(error.message).toMatch(message);
      expect(error.message).toContain('ssh-keygen -t rsa -b 4096');
    },
  );

  test.each(FORMS)('a 1024-bit key made by ssh-keygen still encrypts (%s)', (form) => {
    const ciphertext = encryptPassword(PASSWORD, rsa1024[form]);
    expect(opensslDecrypt(rsa1024.opensslPrivatePath, ciphertext, 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('public exponent 3 (openssl genpkey rsa_keygen_pubexp:3) still encrypts', () => {
    const ciphertext = encryptPassword(PASSWORD, exponent3.spkiPem);
    expect(opensslDecrypt(exponent3.privatePath, ciphertext, 'pkcs1').toString('utf8')).toBe(PASSWORD);
  });

  test('a 16384-bit modulus, the largest OpenSSL computes with, still encrypts to one block', () => {
    const { sshPublicLine } = rsaPublicKeyFromNumbers(syntheticModulus(16384), 65537n);
    expect(Buffer.from(encryptPassword(PASSWORD, sshPublicLine), 'base64')).toHaveLength(2048);
  });

  test.each(FORMATS)('a 1024-bit %s private key still decrypts', (format) => {
    const key = rsa1024.privateKeys.find((candidate) => candidate.format === format && !candidate.passphrase)!;
    const ciphertext = opensslEncrypt(rsa1024.spkiPath, Buffer.from(PASSWORD), 'pkcs1');
    expect(decryptPassword(ciphertext, key.text)).toBe(PASSWORD);
  });

  const refusedPrivateKeys: Array<[string, () => string, RegExp]> = [
    ['a 512-bit key made by openssl', () => rsa512.privatePem, /512 bits/],
    ['public exponent 1', () => privateKeyWithNumbers(privateKey(2048, 'pem', false).text, 1n), /exponent is 1/],
    ['an even public exponent', () => privateKeyWithNumbers(privateKey(2048, 'pem', false).text, 4n), /even/],
    [
      'a 20000-bit modulus',
      () => privateKeyWithNumbers(privateKey(2048, 'pem', false).text, 65537n, syntheticModulus(20000)),
      /20000 bits/,
    ],
  ];

  test.each(refusedPrivateKeys)('decryptPassword refuses %s with ERR_WEAK_KEY', (_name, key, message) => {
    const ciphertext = opensslEncrypt(rsa512.spkiPath, Buffer.from('pw'), 'pkcs1');
    const error = expectCryptoError(() => decryptPassword(ciphertext, key()), 'ERR_WEAK_KEY');
    expect(error.message).toMatch(message);
  });

  // Numbers that still compute the right thing but make every exponentiation as slow as they are long.
  const slowPublicKeys: Array<[string, () => string, RegExp]> = [
    ['e + lambda(n)', () => keyWithLongNumber(privateKey(2048, 'pem', false).text, 'e', 0).publicPem, /exponent is 204\d bits, 2\^256 or more/],
    ['a 257-bit exponent (ssh-rsa line)', () => rsaPublicKeyFromNumbers(modulusOf2048(), (1n << 256n) + 1n).sshPublicLine, /257 bits/],
    ['a 64000-bit exponent (ssh-rsa line)', () => rsaPublicKeyFromNumbers(modulusOf2048(), (1n << 63999n) + 1n).sshPublicLine, /64000 bits/],
  ];
  test.each(slowPublicKeys)('encryptPassword refuses a public exponent of 2^256 or more: %s', (_name, key, message) => {
    const error = expectCryptoError(() => encryptPassword(PASSWORD, key()), 'ERR_WEAK_KEY');
    expect(error.message).toMatch(message);
  });

  test('a 256-bit public exponent still encrypts', () => {
    const { sshPublicLine } = rsaPublicKeyFromNumbers(modulusOf2048(), (1n << 255n) + 1n);
    expect(Buffer.from(encryptPassword(PASSWORD, sshPublicLine), 'base64')).toHaveLength(256);
  });

  test.each([
    ['e + lambda(n)', 'e', 0, /public exponent is 204\d bits/],
    ['e + 2^64000 lambda(n)', 'e', 64000, /public exponent is 6604\d bits/],
    ['d + 2^2048 lambda(n)', 'd', 2048, /private number d is 40\d\d bits, longer than its 2048-bit modulus/],
    ['dp + 2^2048 (p - 1)', 'dp', 2048, /private number dp is 30\d\d bits/],
    ['dq + 2^2048 (q - 1)', 'dq', 2048, /private number dq is 30\d\d bits/],
    ['qi + 2^2048 p', 'qi', 2048, /private number qi is 30\d\d bits/],
  ] as const)('decryptPassword refuses a key with %s, before any exponentiation, with ERR_WEAK_KEY', (_name, which, extraBits, message) => {
    const { privatePem, publicPem } = keyWithLongNumber(privateKey(2048, 'pem', false).text, which, extraBits);
    const ciphertext = opensslEncrypt(keySet(2048).spkiPath, Buffer.from(PASSWORD), 'pkcs1');
    expect(publicPem).toContain('BEGIN PUBLIC KEY');
    const error = expectCryptoError(() => decryptPassword(ciphertext, privatePem), 'ERR_WEAK_KEY');
    expect(error.message).toMatch(message);
  });
});

describe('rsaPublicKeyOf (internal: the size and modulus a ciphertext is checked against)', () => {
  const SIZES_CHECKED = [1024, 2048, 4096] as const;
  let rsa1024: RsaKeySet;

  beforeAll(async () => {
    rsa1024 = await makeRsaKeySet(dir!, 1024, 'modulus-1024');
  }, 60_000);

  const setOf = (bits: number) => (bits === 1024 ? rsa1024 : keySet(bits));

  test.each(SIZES_CHECKED.flatMap((bits) => PUBLIC_FORMS.map((form) => [bits, form] as const)))(
    'reads the %i-bit key from the %s: its size, and the modulus openssl prints',
    (bits, form) => {
      const set = setOf(bits);
      const { bits: size, modulus } = rsaPublicKeyOf(publicKeyText(set, form));
      expect(size).toBe(bits);
      expect(modulus).toHaveLength(bits / 8);
      expect(modulus.equals(opensslModulus(set.spkiPath))).toBe(true);
    },
  );

  test('reports a modulus of an odd size without a leading zero byte', () => {
    const n = syntheticModulus(2047);
    expect(rsaPublicKeyOf(sshRsaLine(n, 65537n))).toEqual({ bits: 2047, modulus: n });
    expect(rsaPublicKeyOf(rsaPublicKeyFromNumbers(n, 65537n).spkiPem)).toEqual({ bits: 2047, modulus: n });
  });

  test('does not judge strength: that is for encryptPassword', () => {
    expect(rsaPublicKeyOf(rsaPublicKeyFromNumbers(syntheticModulus(512), 1n).sshPublicLine).bits).toBe(512);
  });

  test.each([
    ['an ed25519 line', () => ed25519.sshPublicLine],
    ['an ECDSA line', () => ecdsaPem.sshPublicLine],
  ])('refuses %s with ERR_NOT_RSA_KEY', (_name, text) => {
    expectCryptoError(() => rsaPublicKeyOf(text()), 'ERR_NOT_RSA_KEY');
  });

  test('refuses an ed25519 PEM public key with ERR_NOT_RSA_KEY', () => {
    const pem = execFileSync('openssl', ['pkey', '-pubout'], {
      input: execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519']),
    }).toString();
    expectCryptoError(() => rsaPublicKeyOf(pem), 'ERR_NOT_RSA_KEY');
  });

  /** An `ssh-rsa` line of the given fields, each length-prefixed, as they are (no mpint rules applied). */
  const sshLine = (...fields: Buffer[]) => {
    const lengthOf = (field: Buffer) => Buffer.from([0, 0, field.length >> 8, field.length & 0xff]);
    return `ssh-rsa ${Buffer.concat(fields.flatMap((field) => [lengthOf(field), field])).toString('base64')}`;
  };
  const RSA = Buffer.from('ssh-rsa');
  const E = Buffer.from([1, 0, 1]);
  const n = () => opensslModulus(keySet(2048).spkiPath);
  test.each([
    ['empty text', () => ''],
    ['garbage', () => 'hello'],
    ['a truncated line', () => keySet(2048).sshPublicLine.slice(0, 200)],
    ['base64 cut short', () => keySet(2048).sshPublicLine.split(' ').slice(0, 2).join(' ').slice(0, -2)],
    ['a blob with a field after the modulus', () => sshLine(RSA, E, Buffer.concat([Buffer.from([0]), n()]), E)],
    ['a blob without its modulus', () => sshLine(RSA, E)],
    ['an ed25519 blob under an ssh-rsa label', () => `ssh-rsa ${ed25519.sshPublicLine.split(' ')[1]}`],
    ['a negative modulus (top bit set, no zero byte)', () => sshLine(RSA, E, n())],
    ['a zero exponent', () => sshLine(RSA, Buffer.from([0]), Buffer.concat([Buffer.from([0]), n()]))],
    ['a private key', () => privateKey(2048, 'pem', false).text],
    ['a damaged PEM', () => keySet(2048).spkiPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n')],
    ['a certificate', () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
  ])('refuses %s with ERR_INVALID_KEY', (_name, text) => {
    expectCryptoError(() => rsaPublicKeyOf(text()), 'ERR_INVALID_KEY');
  });

});
