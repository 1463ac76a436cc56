import { constants, publicEncrypt } from 'node:crypto';
import fc from 'fast-check';
import { decryptPassword } from '../lib/browser';
import { decryptPassword as nodeDecryptPassword, type PasswordPadding } from '../lib/crypto';
import { makeKeyDir, makeRsaKeySet, removeKeyDir, type RsaKeySet } from './helpers/crypto-keys';

// The browser module against `decryptPassword` of `/crypto` (OpenSSL's raw RSA), on the same inputs:
// both must give the same password, or both fail with the same code. The inputs are plaintexts of
// any bytes (valid text, invalid UTF-8, control characters, empty), altered ciphertexts and random
// blocks, for every key format.

let dir: string | undefined;
let keySets: RsaKeySet[];

beforeAll(async () => {
  dir = makeKeyDir();
  const keyDir = dir;
  keySets = await Promise.all([makeRsaKeySet(keyDir, 1024), makeRsaKeySet(keyDir, 2048)]);
}, 60_000);

afterAll(() => removeKeyDir(dir));

type Outcome = { password: string } | { code: string };

async function outcome(run: () => Promise<string> | string): Promise<Outcome> {
  try {
    return { password: await run() };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? String(error) };
  }
}

function encrypt(set: RsaKeySet, plaintext: Uint8Array, padding: PasswordPadding): Buffer {
  const options =
    padding === 'pkcs1'
      ? { key: set.spkiPem, padding: constants.RSA_PKCS1_PADDING }
      : { key: set.spkiPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  return publicEncrypt(options, plaintext);
}

/** Up to 62 bytes: what a 1024-bit key holds with OAEP-SHA256 (a cut may split a character: one more input). */
const plaintextArbitrary = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((text) => new TextEncoder().encode(text)),
    fc.string({ unit: 'binary', maxLength: 20 }).map((text) => new TextEncoder().encode(text)),
    fc.uint8Array({ maxLength: 62 }),
  )
  .map((bytes) => bytes.subarray(0, 62));

/** How the ciphertext reaches the decrypters: as made, altered in one byte, or replaced by random bytes. */
const deliveryArbitrary = fc.oneof(
  fc.constant({ kind: 'as made' as const }),
  fc.record({ kind: fc.constant('one byte altered' as const), index: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('random block' as const), seed: fc.uint8Array({ minLength: 256, maxLength: 256 }) }),
);

test('the browser module and /crypto agree on every input: same password, or the same error code', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 1 }),
      fc.constantFrom('openssh', 'pem', 'pkcs8'),
      fc.constantFrom<PasswordPadding>('pkcs1', 'oaep-sha256'),
      plaintextArbitrary,
      deliveryArbitrary,
      async (setIndex, format, padding, plaintext, delivery) => {
        const set = keySets[setIndex];
        const key = set.privateKeys.find((candidate) => candidate.format === format && candidate.passphrase === undefined)!.text;
        let block = encrypt(set, plaintext, padding);
        if (delivery.kind === 'one byte altered') {
          block = Buffer.from(block);
          block[delivery.index % block.length] ^= delivery.xor;
        } else if (delivery.kind === 'random block') {
          block = Buffer.from(delivery.seed.subarray(0, block.length));
        }
        const ciphertext = block.toString('base64');
        const browser = await outcome(() => decryptPassword(ciphertext, key, { padding }));
        const node = await outcome(() => nodeDecryptPassword(ciphertext, key, { padding }));
        expect(browser).toEqual(node);
        if (delivery.kind === 'as made' && 'password' in browser) expect(new TextEncoder().encode(browser.password)).toEqual(plaintext);
      },
    ),
    { numRuns: 200 },
  );
}, 120_000);
