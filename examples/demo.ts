import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptPassword, encryptPassword } from '../lib/crypto';
import { createDemoHost, type DemoInstance } from './demo-host';

/**
 * The whole flow in one command: the demo host serves, a guest agent posts its encrypted password,
 * the owner reads and decrypts it. Prints a transcript; exits 0 only if every step matched.
 */

const keyDir = mkdtempSync(join(tmpdir(), 'mdpw-demo-'));
const demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef', keyDir });
const [web] = demo.instances;
const tokenOf = (projectId: string, role: 'reader' | 'member') =>
  [...demo.tokens].find(([, owner]) => owner.projectId === projectId && owner.role === role)?.[0] ?? '';

let failures = 0;
function step(description: string, ok: boolean, detail = ''): void {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'}  ${description}${detail ? `  (${detail})` : ''}`);
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, text: await response.text() };
}

async function guestAgent(base: string, instance: DemoInstance, label: string): Promise<string> {
  const headers = demo.guestHeaders(instance);
  const meta = JSON.parse((await call(base, '/openstack/latest/meta_data.json', { headers })).text);
  const publicKey = Object.values(meta.public_keys as Record<string, string>)[0];
  const isSet = (await call(base, '/openstack/2013-04-04/password', { headers })).text.length > 0;
  step(`${label}a: guest ${instance.name} reads its public key and finds no password set`, publicKey.startsWith('ssh-rsa ') && !isSet);
  const password = randomBytes(12).toString('base64url');
  const ciphertext = encryptPassword(password, publicKey);
  const posted = await call(base, '/openstack/2013-04-04/password', { method: 'POST', headers, body: ciphertext });
  step(`${label}b: guest posts the password encrypted with that key`, posted.status === 200, `${posted.status}, ${ciphertext.length} base64 characters`);
  return password;
}

async function ownerReads(base: string, password: string, role: 'reader' | 'member', label: string): Promise<void> {
  const read = await call(base, `/compute/v2.1/servers/${web.id}/os-server-password`, {
    headers: { 'X-Auth-Token': tokenOf(web.projectId, role), Accept: 'application/json' },
  });
  const ciphertext = read.status === 200 ? (JSON.parse(read.text).password as string) : '';
  const decrypted = ciphertext ? decryptPassword(ciphertext, readFileSync(web.key.privateKeyFile)) : '';
  step(`${label}: owner (${role}) reads the ciphertext and decrypts it with ${web.key.name}'s private key`, decrypted === password, decrypted === password ? 'matches' : `got ${read.status}`);
}

async function main(): Promise<void> {
  const server = demo.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`Demo host on ${base}: ${demo.instances.length} instances in 2 projects, embedded store\n`);
  try {
    const first = await guestAgent(base, web, '1');
    const again = await call(base, '/openstack/latest/password', {
      method: 'POST',
      headers: demo.guestHeaders(web),
      body: encryptPassword('attacker-chosen', web.key.sshPublicKey),
    });
    step('2: a second post is refused: set once', again.status === 409, `${again.status} ${JSON.parse(again.text).error.code}`);
    await ownerReads(base, first, 'reader', '3');
    const other = await call(base, `/compute/v2.1/servers/${web.id}/os-server-password`, {
      headers: { 'X-Auth-Token': tokenOf('demo-b', 'member') },
    });
    step("4: another project's token gets 404", other.status === 404, `${other.status} ${JSON.parse(other.text).error.code}`);
    const cleared = await call(base, `/compute/v2.1/servers/${web.id}/os-server-password`, {
      method: 'DELETE',
      headers: { 'X-Auth-Token': tokenOf(web.projectId, 'member') },
    });
    step('5: the owner (member) clears it', cleared.status === 204, String(cleared.status));
    const second = await guestAgent(base, web, '6');
    await ownerReads(base, second, 'member', '7');
  } finally {
    server.close();
    rmSync(keyDir, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nEvery step matched.' : `\n${failures} step(s) failed.`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error('The demo failed:', error);
  process.exitCode = 1;
});
