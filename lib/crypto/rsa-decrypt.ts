import type { KeyObject } from 'node:crypto';
import { jsbn, md, pki } from 'node-forge';
import type { PasswordPadding } from './types';

function bigInteger(base64url: string | undefined): jsbn.BigInteger {
  return new jsbn.BigInteger(Buffer.from(base64url ?? '', 'base64url').toString('hex'), 16);
}

function toForgeKey(key: KeyObject): pki.rsa.PrivateKey {
  const jwk = key.export({ format: 'jwk' });
  return pki.setRsaPrivateKey(
    bigInteger(jwk.n),
    bigInteger(jwk.e),
    bigInteger(jwk.d),
    bigInteger(jwk.p),
    bigInteger(jwk.q),
    bigInteger(jwk.dp),
    bigInteger(jwk.dq),
    bigInteger(jwk.qi),
  );
}

/**
 * Decrypts one RSA block with node-forge and returns the plaintext, or `undefined` when the padding
 * check fails. Node's `privateDecrypt` is not used: Node 20 refuses PKCS#1 v1.5 decryption
 * (CVE-2023-46809) and Node 22+ returns random bytes for a bad block ("implicit rejection"), which
 * would hide a wrong key.
 */
export function rsaDecrypt(key: KeyObject, ciphertext: Buffer, padding: PasswordPadding): Buffer | undefined {
  const forgeKey = toForgeKey(key);
  const block = ciphertext.toString('binary');
  try {
    const plaintext =
      padding === 'pkcs1'
        ? forgeKey.decrypt(block, 'RSAES-PKCS1-V1_5')
        : forgeKey.decrypt(block, 'RSA-OAEP', { md: md.sha256.create(), mgf1: { md: md.sha256.create() } });
    return Buffer.from(plaintext, 'binary');
  } catch {
    return undefined;
  }
}
