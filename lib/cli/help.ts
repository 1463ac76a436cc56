import { PASSPHRASE_ENV, PROGRAM, TOKEN_ENV, type Command } from './program';

/** The overview (`top`) and each command's help, printed by `--help`. */
export const HELP: Readonly<Record<'top' | Command, string>> = {
  top: `Usage: ${PROGRAM} <command> [options]

Encrypt, decrypt and fetch instance passwords (OpenStack Nova's os-server-password).

Commands:
  encrypt   Encrypt a password with an RSA public key, as a guest agent does
  decrypt   Decrypt a password with your RSA private key
  get       Fetch a server's password from the compute API and decrypt it

Run \`${PROGRAM} <command> --help\` for a command's options.
Exit status: 0 success, 1 failure, 2 usage error, 3 no password came within get --wait.
`,
  encrypt: `Usage: ${PROGRAM} encrypt --public-key FILE [options] [PASSWORD | -]

Encrypts PASSWORD with the RSA public key in FILE and prints the ciphertext in base64.
With -, or no PASSWORD while stdin is not a terminal, reads the password from stdin and
removes one trailing newline. A PASSWORD argument is visible to other users of this machine
in the process list: prefer stdin.

Options:
  --public-key FILE  an ssh-rsa line (a .pub file) or a PEM public key
  --padding MODE     pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  -h, --help         show this help
`,
  decrypt: `Usage: ${PROGRAM} decrypt --key FILE [options] [CIPHERTEXT | -]

Decrypts a base64 CIPHERTEXT, as os-server-password returns it, with the RSA private key in
FILE and prints the password. With -, or no CIPHERTEXT while stdin is not a terminal, reads
the ciphertext from stdin (at most 64 KiB, as every input). A password holding control or
format characters is not printed (it may be forged to change what the terminal shows) and the
exit status is 1, unless --raw.

Options:
  --key FILE              the private key: OpenSSH, PEM PKCS#1 or PKCS#8, encrypted or not;
                          repeat it to try several keys (stderr names the one that decrypted)
  --passphrase-file FILE  the key's passphrase (one trailing newline removed); else the
                          environment variable ${PASSPHRASE_ENV}; else a prompt when
                          stdin is a terminal
  --padding MODE          pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  --raw                   print the password even if it holds control or format characters
  -h, --help              show this help
`,
  get: `Usage: ${PROGRAM} get --url BASE --server ID --key FILE [options]

Fetches BASE/servers/ID/os-server-password, decrypts the password with the RSA private key
in FILE and prints it. The token comes from --token-file, else --token, else the environment
variable ${TOKEN_ENV}. Redirects are not followed; the request gives up after --timeout.
With --wait, waits for the guest to post its password: the server holds each request
(Prefer: wait) until it comes, and the request is repeated until SECONDS have passed
(each one giving up after --timeout plus its wait); then exit status 3.
A password holding control or format characters is not printed, unless --raw.

Options:
  --url BASE              the compute API's base URL, e.g. https://cloud.example/compute/v2.1
  --server ID             the server's id
  --key FILE              the private key: OpenSSH, PEM PKCS#1 or PKCS#8, encrypted or not;
                          repeat it to try several keys (stderr names the one that decrypted)
  --token-file FILE       a file holding the token
  --token TOKEN           the token itself; visible to other users of this machine in the
                          process list: prefer ${TOKEN_ENV} or --token-file
  --passphrase-file FILE  the key's passphrase; else ${PASSPHRASE_ENV}; else a prompt
                          when stdin is a terminal
  --padding MODE          pkcs1 (default; cloudbase-init and Nova) or oaep-sha256
  --timeout SECONDS       give up on the API after this long (default 30)
  --wait SECONDS          wait up to SECONDS (1 to 86400) for the password to be posted
  --raw                   print the password even if it holds control or format characters
  -h, --help              show this help
`,
};
