import { PasswordCryptoError } from './errors';

const KEY_TYPE_NAMES: Readonly<Record<string, string>> = {
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  ec: 'ECDSA',
  ecdsa: 'ECDSA',
  dsa: 'DSA',
  dh: 'Diffie-Hellman',
  'rsa-pss': 'RSA-PSS (signing only)',
};

/** A readable name of a key type as Node (`ed25519`, `ec`) or sshpk (`ecdsa`) calls it. */
export function keyTypeName(type: string): string {
  return KEY_TYPE_NAMES[type] ?? type;
}

/** `ERR_INVALID_KEY` with `message`. */
export function invalidKey(message: string): PasswordCryptoError {
  return new PasswordCryptoError('ERR_INVALID_KEY', message);
}

/** `ERR_NOT_RSA_KEY`: a valid key of a type that cannot encrypt. */
export function notRsaKey(typeName: string, half: 'public' | 'private'): PasswordCryptoError {
  const advice =
    half === 'public'
      ? 'Create one with `ssh-keygen -t rsa -b 4096` and give the instance its public key.'
      : "Use the RSA private key matching the instance's public key.";
  return new PasswordCryptoError(
    'ERR_NOT_RSA_KEY',
    `This is a ${half} key of type ${typeName}; instance passwords are encrypted with RSA keys only. ${advice}`,
  );
}

/** `ERR_PASSPHRASE_REQUIRED`. */
export function passphraseRequired(): PasswordCryptoError {
  return new PasswordCryptoError('ERR_PASSPHRASE_REQUIRED', 'The private key is encrypted: pass its passphrase.');
}

/** `ERR_WRONG_PASSPHRASE`. */
export function wrongPassphrase(): PasswordCryptoError {
  return new PasswordCryptoError(
    'ERR_WRONG_PASSPHRASE',
    'The passphrase does not open the private key (or the key file is damaged): check the passphrase.',
  );
}
