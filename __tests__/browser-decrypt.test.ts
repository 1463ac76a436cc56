import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import {
  decryptPassword,
  PasswordCryptoError,
  type PasswordCryptoErrorCode,
} from '../lib/browser';
import { decryptPassword as nodeDecryptPassword, type PasswordCryptoErrorCode as NodeCode } from '../lib/crypto';
import {
  badPkcs1Blocks,
  makeBrowserKeySets,
  opensslCases,
  opensslRawEncrypt,
  PASSWORDS,
  type DecryptCase,
} from './helpers/browser-cases';
import {
  keyWithLongNumber,
  makeKeyDir,
  makeOtherKey,
  makeRsaKeySet,
  opensslEncrypt,
  removeKeyDir,
  type OtherKey,
  type RsaKeySet,
} from './helpers/crypto-keys';

let dir: string | undefined;
let keySets: RsaKeySet[];
let other2048: RsaKeySet;
let ed25519: OtherKey;
let ecdsaPem: OtherKey;
let cases: DecryptCase[];

beforeAll(async () => {
  dir = makeKeyDir();
  const keyDir = dir;
  [keySets, other2048, ed25519, ecdsaPem] = await Promise.all([
    makeBrowserKeySets(keyDir),
    makeRsaKeySet(keyDir, 2048, 'other-rsa-2048'),
    makeOtherKey(keyDir, 'ed25519', 'openssh'),
    makeOtherKey(keyDir, 'ecdsa', 'pem'),
  ]);
  cases = opensslCases(keySets);
}, 120_000);

afterAll(() => removeKeyDir(dir));

function keySet(bits: number): RsaKeySet {
  const set = keySets.find((candidate) => candidate.bits === bits);
  if (set === undefined) throw new Error(`no ${bits}-bit key set: did beforeAll fail?`);
  return set;
}

function unencrypted(set: RsaKeySet, format: 'openssh' | 'pem' | 'pkcs8'): string {
  return set.privateKeys.find((key) => key.format === format && key.passphrase === undefined)!.text;
}

async function rejection(promise: Promise<unknown>, code: PasswordCryptoErrorCode): Promise<PasswordCryptoError> {
  const outcome = await promise.then(
    (value) => new Error(`expected ${code}, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(PasswordCryptoError);
  expect(outcome).toMatchObject({ name: 'PasswordCryptoError', code });
  return outcome as PasswordCryptoError;
}

/** The codes only the page has: it takes no passphrase, needs WebCrypto for OAEP, and checks its own options. */
type PageOnlyCode = 'ERR_ENCRYPTED_KEY' | 'ERR_WEBCRYPTO_UNAVAILABLE' | 'ERR_INVALID_OPTION';

test("the browser module's PasswordCryptoError is /crypto's contract: every other code is one of /crypto's", () => {
  // Checked by the compiler: a code added to one side only fails to type-check here.
  const shared: Exclude<PasswordCryptoErrorCode, PageOnlyCode> extends NodeCode ? true : false = true;
  expect(shared).toBe(true);
  expect(new PasswordCryptoError('ERR_WEAK_KEY', 'x')).toMatchObject({ name: 'PasswordCryptoError', code: 'ERR_WEAK_KEY' });
});

describe('decryptPassword of the browser module, in Node', () => {
  test('opens every openssl ciphertext: 1024-, 2048- and 4096-bit keys, PKCS#1, PKCS#8 and OpenSSH, both paddings', async () => {
    expect(cases).toHaveLength(3 * 3 * 2 * PASSWORDS.length);
    const wrong: string[] = [];
    for (const item of cases) {
      const password = await decryptPassword(item.ciphertext, item.privateKey, { padding: item.padding });
      if (password !== item.password) wrong.push(`${item.bits} ${item.format} ${item.padding}: ${JSON.stringify(password)}`);
    }
    expect(wrong).toEqual([]);
  });

  test('defaults to pkcs1 and ignores line breaks in the ciphertext, as the API and the CLI do', async () => {
    const set = keySet(2048);
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('Grüße'), 'pkcs1');
    const wrapped = ciphertext.replace(/.{64}/g, '$&\r\n');
    await expect(decryptPassword(wrapped, unencrypted(set, 'pem'))).resolves.toBe('Grüße');
  });

  test('refuses passphrase-protected keys in every format, pointing to the CLI', async () => {
    for (const set of keySets) {
      for (const key of set.privateKeys.filter((candidate) => candidate.passphrase !== undefined)) {
        const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('x'), 'pkcs1');
        const error = await rejection(decryptPassword(ciphertext, key.text), 'ERR_ENCRYPTED_KEY');
        expect(error.message).toContain('metadata-password decrypt');
      }
    }
  });

  test('a key of the same size that is not the one: ERR_DECRYPTION_FAILED, never text', async () => {
    for (const padding of ['pkcs1', 'oaep-sha256'] as const) {
      for (const password of PASSWORDS) {
        const ciphertext = opensslEncrypt(keySet(2048).spkiPath, Buffer.from(password), padding);
        for (const format of ['openssh', 'pem', 'pkcs8'] as const) {
          await rejection(decryptPassword(ciphertext, unencrypted(other2048, format), { padding }), 'ERR_DECRYPTION_FAILED');
        }
      }
    }
  });

  test('the other padding: ERR_DECRYPTION_FAILED', async () => {
    const set = keySet(2048);
    const oaep = opensslEncrypt(set.spkiPath, Buffer.from('Passw0rd'), 'oaep-sha256');
    const pkcs1 = opensslEncrypt(set.spkiPath, Buffer.from('Passw0rd'), 'pkcs1');
    await rejection(decryptPassword(oaep, unencrypted(set, 'pem'), { padding: 'pkcs1' }), 'ERR_DECRYPTION_FAILED');
    await rejection(decryptPassword(pkcs1, unencrypted(set, 'pem'), { padding: 'oaep-sha256' }), 'ERR_DECRYPTION_FAILED');
  });

  test.each(Object.keys(badPkcs1Blocks(256)))('a PKCS#1 v1.5 block with %s: ERR_DECRYPTION_FAILED, as /crypto', async (name) => {
    for (const bits of [1024, 2048]) {
      const set = keySet(bits);
      const ciphertext = opensslRawEncrypt(set.spkiPath, badPkcs1Blocks(bits / 8)[name]);
      await rejection(decryptPassword(ciphertext, unencrypted(set, 'pkcs8')), 'ERR_DECRYPTION_FAILED');
      expect(() => nodeDecryptPassword(ciphertext, unencrypted(set, 'pkcs8'))).toThrow(
        expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
      );
    }
  });

  test('a well-formed PKCS#1 v1.5 block made by hand decrypts (the bad blocks above differ in one way only)', async () => {
    const set = keySet(1024);
    const block = Buffer.concat([Buffer.from([0x00, 0x02]), Buffer.alloc(128 - 3 - 8, 0x5a), Buffer.from([0x00]), Buffer.from('Passw0rd')]);
    await expect(decryptPassword(opensslRawEncrypt(set.spkiPath, block), unencrypted(set, 'pem'))).resolves.toBe('Passw0rd');
  });

  test('a ciphertext of another size: ERR_KEY_SIZE_MISMATCH, naming both sizes', async () => {
    const for2048 = opensslEncrypt(keySet(2048).spkiPath, Buffer.from('Passw0rd'), 'pkcs1');
    const error = await rejection(decryptPassword(for2048, unencrypted(keySet(1024), 'pem')), 'ERR_KEY_SIZE_MISMATCH');
    expect(error.message).toContain('256 bytes');
    expect(error.message).toContain('1024-bit');
    const cut = Buffer.from(for2048, 'base64').subarray(0, 255).toString('base64');
    await rejection(decryptPassword(cut, unencrypted(keySet(2048), 'pem')), 'ERR_KEY_SIZE_MISMATCH');
  });

  test('a block at or above the modulus: ERR_DECRYPTION_FAILED', async () => {
    const set = keySet(1024);
    await rejection(decryptPassword(Buffer.alloc(128, 0xff).toString('base64'), unencrypted(set, 'pem')), 'ERR_DECRYPTION_FAILED');
  });

  test.each([
    ['empty', ''],
    ['whitespace only', ' \n'],
    ['not base64', 'not*base64!'],
    ['base64url', 'ab-_'],
    ['unpadded', 'QUJD' + 'QQ'],
  ])('a ciphertext %s: ERR_CORRUPT_CIPHERTEXT', async (_name, ciphertext) => {
    await rejection(decryptPassword(ciphertext, unencrypted(keySet(1024), 'pem')), 'ERR_CORRUPT_CIPHERTEXT');
  });

  test('keys it cannot use: a public key, another type, a damaged file, PuTTY, not a key', async () => {
    const set = keySet(1024);
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('x'), 'pkcs1');
    const pem = unencrypted(set, 'pem');
    const openssh = unencrypted(set, 'openssh');
    const damage = (text: string) => text.replace(/\n([A-Za-z0-9+/]{20})/, (_line, head: string) => `\n${head.split('').reverse().join('')}`);
    const truncate = (text: string) => text.split('\n').filter((_line, index) => index !== 3).join('\n');
    for (const [key, code] of [
      [set.sshPublicLine, 'ERR_INVALID_KEY'],
      [set.spkiPem, 'ERR_INVALID_KEY'],
      [set.pkcs1PublicPem, 'ERR_INVALID_KEY'],
      [ed25519.privateKeyText, 'ERR_NOT_RSA_KEY'],
      [ecdsaPem.privateKeyText, 'ERR_NOT_RSA_KEY'],
      [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'ERR_NOT_RSA_KEY'],
      [generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'ERR_NOT_RSA_KEY'],
      [damage(pem), 'ERR_INVALID_KEY'],
      [truncate(pem), 'ERR_INVALID_KEY'],
      [damage(openssh), 'ERR_INVALID_KEY'],
      [truncate(openssh), 'ERR_INVALID_KEY'],
      ['PuTTY-User-Key-File-3: ssh-rsa\n', 'ERR_INVALID_KEY'],
      ['hello', 'ERR_INVALID_KEY'],
    ] as const) {
      const error = await rejection(decryptPassword(ciphertext, key), code);
      expect(error.message).not.toContain(pem.split('\n')[2]);
    }
  });

  test.each([
    ['e + lambda(n)', 'e', 0, /public exponent is 204\d bits, 2\^256 or more/],
    ['e + 2^64000 lambda(n)', 'e', 64000, /public exponent is 6604\d bits/],
    ['d + 2^2048 lambda(n)', 'd', 2048, /private number d is 40\d\d bits, longer than its 2048-bit modulus/],
    ['dp + 2^2048 (p - 1)', 'dp', 2048, /private number dp is 30\d\d bits/],
    ['dq + 2^2048 (q - 1)', 'dq', 2048, /private number dq is 30\d\d bits/],
    ['qi + 2^2048 p', 'qi', 2048, /private number qi is 30\d\d bits/],
  ] as const)('a key with %s: ERR_WEAK_KEY before any exponentiation, as /crypto', async (_name, which, extraBits, message) => {
    const set = keySet(2048);
    const { privatePem } = keyWithLongNumber(unencrypted(set, 'pem'), which, extraBits);
    const pkcs8 = createPrivateKey(privatePem).export({ type: 'pkcs8', format: 'pem' }) as string;
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('Passw0rd'), 'pkcs1');
    for (const key of [privatePem, pkcs8]) {
      const error = await rejection(decryptPassword(ciphertext, key), 'ERR_WEAK_KEY');
      expect(error.message).toMatch(message);
      expect(() => nodeDecryptPassword(ciphertext, key)).toThrow(expect.objectContaining({ code: 'ERR_WEAK_KEY' }));
    }
  });

  test('keys that protect nothing: ERR_WEAK_KEY, as /crypto', async () => {
    const set = keySet(1024);
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('x'), 'pkcs1');
    const rsa512 = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    const error = await rejection(decryptPassword(ciphertext, rsa512), 'ERR_WEAK_KEY');
    expect(error.message).toMatch(/512 bits; under 1024/);
    expect(() => nodeDecryptPassword(ciphertext, rsa512)).toThrow(expect.objectContaining({ code: 'ERR_WEAK_KEY' }));
  });

  test('options: only padding, with a valid value', async () => {
    const set = keySet(1024);
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('x'), 'pkcs1');
    const key = unencrypted(set, 'pem');
    const error = await rejection(decryptPassword(ciphertext, key, { passphrase: 'secret' } as never), 'ERR_INVALID_OPTION');
    expect(error.message).toContain('metadata-password decrypt');
    expect(error.message).not.toContain('secret\'');
    await rejection(decryptPassword(ciphertext, key, { padding: 'oaep' as never }), 'ERR_INVALID_OPTION');
  });
});
