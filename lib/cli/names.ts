/** The program's name, as its messages start, and the environment variables it reads. */
export const PROGRAM = 'metadata-password';
export const PASSPHRASE_ENV = 'METADATA_PASSWORD_PASSPHRASE';
export const TOKEN_ENV = 'OS_AUTH_TOKEN';
