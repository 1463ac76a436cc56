import { execFileSync } from 'node:child_process';
import type { PasswordPadding } from '../../lib/browser';
import { makeRsaKeySet, opensslEncrypt, type PrivateKeyFormat, type RsaKeySet } from './crypto-keys';

/** The key sizes the browser module is proven on. */
export const BROWSER_KEY_SIZES = [1024, 2048, 4096] as const;
export const PRIVATE_KEY_FORMATS: readonly PrivateKeyFormat[] = ['openssh', 'pem', 'pkcs8'];
export const PADDINGS: readonly PasswordPadding[] = ['pkcs1', 'oaep-sha256'];

/**
 * Non-ASCII passwords, each short enough for a 1024-bit key with OAEP-SHA256 (62 bytes): Latin
 * accents, CJK, an emoji outside the BMP, Greek with a tab, right-to-left Arabic.
 */
export const PASSWORDS = ['Pässwörd-ÄÖÜß', '密码✓日本語🔑', 'Ωμέγα\tπάσσγουορντ', 'كلمة-السر-٣', 'x'] as const;

/** One ciphertext made by `openssl pkeyutl -encrypt`, with the private key that opens it. */
export interface DecryptCase {
  readonly bits: number;
  readonly format: PrivateKeyFormat;
  readonly padding: PasswordPadding;
  readonly password: string;
  readonly ciphertext: string;
  readonly privateKey: string;
}

/** ssh-keygen key sets for every size in `BROWSER_KEY_SIZES` (4096-bit generation takes seconds: once per suite). */
export async function makeBrowserKeySets(dir: string): Promise<RsaKeySet[]> {
  return Promise.all(BROWSER_KEY_SIZES.map((bits) => makeRsaKeySet(dir, bits)));
}

/** Every size x unencrypted key format x padding x password, encrypted by openssl. */
export function opensslCases(keySets: readonly RsaKeySet[]): DecryptCase[] {
  const cases: DecryptCase[] = [];
  for (const set of keySets) {
    for (const padding of PADDINGS) {
      for (const password of PASSWORDS) {
        const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from(password), padding);
        for (const key of set.privateKeys.filter((candidate) => candidate.passphrase === undefined)) {
          cases.push({ bits: set.bits, format: key.format, padding, password, ciphertext, privateKey: key.text });
        }
      }
    }
  }
  return cases;
}

/**
 * `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:none` of a whole block: the raw RSA of bytes we
 * lay out ourselves, to make ciphertexts whose PKCS#1 v1.5 padding is wrong in one chosen way.
 */
export function opensslRawEncrypt(publicKeyPath: string, block: Buffer): string {
  const args = ['pkeyutl', '-encrypt', '-pubin', '-inkey', publicKeyPath, '-pkeyopt', 'rsa_padding_mode:none'];
  return execFileSync('openssl', args, { input: block }).toString('base64');
}

/**
 * PKCS#1 v1.5 blocks of `size` bytes, each wrong in one way a careless decrypter accepts: the
 * wrong block type, a short padding string, no separator, a plaintext that is not UTF-8, one with
 * a control character, an empty message.
 */
export function badPkcs1Blocks(size: number): Record<string, Buffer> {
  /** 0x00, `type`, nonzero padding up to `size`, the 0x00 separator when `separator`, `message`. */
  const block = (type: number, message: Buffer, separator = true) => {
    const paddingLength = size - 2 - (separator ? 1 : 0) - message.length;
    const tail = separator ? [Buffer.from([0x00]), message] : [message];
    return Buffer.concat([Buffer.from([0x00, type]), Buffer.alloc(paddingLength, 0x5a), ...tail]);
  };
  const shortPadding = block(0x02, Buffer.alloc(size - 10, 0x41));
  const wrongFirstByte = block(0x02, Buffer.from('Passw0rd'));
  wrongFirstByte[0] = 0x01;
  return {
    'block type 1 (a signature), not 2': block(0x01, Buffer.from('Passw0rd')),
    'a padding string of 7 bytes': shortPadding,
    'no 0x00 separator': block(0x02, Buffer.from('Passw0rdPassw0rd'), false),
    'a message that is not UTF-8': block(0x02, Buffer.from([0xc3, 0x28, 0xa0, 0xa1])),
    'a message with a control character': block(0x02, Buffer.from('Pass\u0007word')),
    'an empty message': block(0x02, Buffer.alloc(0)),
    'a first byte other than 0x00': wrongFirstByte,
  };
}
