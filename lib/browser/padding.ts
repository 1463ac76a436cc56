import { bigIntToBytes, encodeBase64Url } from './bytes.js';
import { PasswordCryptoError } from './errors.js';
import { rsaDecryptBlock, type RsaPrivateKey } from './rsa.js';

/** Bytes of nonzero padding PKCS#1 v1.5 requires at least (RFC 8017, 7.2.2). */
const MIN_PADDING_STRING = 8;

/**
 * RSAES-PKCS1-v1_5 decryption: the message, or `undefined` unless the block reads
 * 0x00 0x02, at least 8 nonzero bytes, 0x00, message. WebCrypto does not offer this padding.
 */
export function decryptPkcs1(key: RsaPrivateKey, block: Uint8Array): Uint8Array | undefined {
  const encoded = rsaDecryptBlock(key, block);
  if (encoded === undefined || encoded[0] !== 0x00 || encoded[1] !== 0x02) return undefined;
  const separator = encoded.indexOf(0x00, 2);
  if (separator < 2 + MIN_PADDING_STRING) return undefined;
  return encoded.subarray(separator + 1);
}

function jwkInteger(value: bigint): string {
  return encodeBase64Url(bigIntToBytes(value));
}

/**
 * RSAES-OAEP decryption with SHA-256 and MGF1-SHA256, by WebCrypto; `undefined` when it fails.
 * Throws `ERR_WEBCRYPTO_UNAVAILABLE` outside a secure context, where browsers hide `crypto.subtle`.
 */
export async function decryptOaepSha256(key: RsaPrivateKey, block: Uint8Array): Promise<Uint8Array | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new PasswordCryptoError(
      'ERR_WEBCRYPTO_UNAVAILABLE',
      "'oaep-sha256' needs WebCrypto (crypto.subtle), which browsers offer only to secure contexts: " +
        'serve the page over HTTPS (or from localhost). PKCS#1 v1.5 works without it.',
    );
  }
  const jwk = {
    kty: 'RSA',
    alg: 'RSA-OAEP-256',
    ext: false,
    key_ops: ['decrypt'],
    n: jwkInteger(key.n),
    e: jwkInteger(key.e),
    d: jwkInteger(key.d),
    p: jwkInteger(key.p),
    q: jwkInteger(key.q),
    dp: jwkInteger(key.dp),
    dq: jwkInteger(key.dq),
    qi: jwkInteger(key.qi),
  };
  const cryptoKey = await subtle.importKey('jwk', jwk, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, cryptoKey, new Uint8Array(block)));
  } catch {
    return undefined;
  }
}
