import { generateKeyPairSync } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sshpk from 'sshpk';

/** A demo project's owner key pair: the public half goes into instances, the private half stays with the owner. */
export interface DemoKey {
  name: string;
  sshPublicKey: string;
  publicKeyFile: string;
  privateKeyFile: string;
}

/**
 * A directory only this user can enter, for the owners' private keys. Without `dir`, a fresh one
 * under the temp dir (`mkdtemp`, mode 0700), so nobody can have prepared it. With `dir`: created
 * 0700 when missing; when present it must be a real directory (not a symlink), owned by this user,
 * with no access for group or others, else this throws rather than write keys where others reach.
 */
export function privateKeyDir(dir?: string): string {
  if (dir === undefined) return mkdtempSync(join(tmpdir(), 'express-metadata-password-demo-'));
  try {
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = lstatSync(dir);
  const problem = !stats.isDirectory()
    ? 'is not a directory (a symlink or a file)'
    : stats.uid !== process.getuid?.()
      ? 'belongs to another user'
      : (stats.mode & 0o077) !== 0
        ? `is open to others (mode ${(stats.mode & 0o777).toString(8)})`
        : undefined;
  if (problem !== undefined) {
    throw new Error(`Refusing to write private keys into ${dir}: it ${problem}. Use a private directory (chmod 700) of your own.`);
  }
  return dir;
}

/** Writes a new file that only this user may read: never an existing file, never through a symlink. */
function writePrivateFile(path: string, data: string): void {
  // In a private directory only this user can have left a file: replace it, then create exclusively.
  rmSync(path, { force: true });
  writeFileSync(path, data, { flag: 'wx', mode: 0o600 });
}

/** Generates a 2048-bit RSA key pair for `name` and writes it into `keyDir` (from `privateKeyDir`). */
export function makeDemoKey(keyDir: string, name: string): DemoKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const publicKeyFile = join(keyDir, `${name}.pub.pem`);
  const privateKeyFile = join(keyDir, `${name}.pem`);
  writePrivateFile(publicKeyFile, publicPem);
  writePrivateFile(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const [type, data] = sshpk.parseKey(publicPem, 'pem').toString('ssh').split(' ');
  const sshPublicKey = `${type} ${data} ${name}@demo`;
  return { name, sshPublicKey, publicKeyFile, privateKeyFile };
}
