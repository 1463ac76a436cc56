import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptPassword, encryptPassword } from '../lib/crypto';
import { createDemoHost, type DemoInstance } from './demo-host';

/**
 * The whole flow in one command: the demo host serves, a guest agent posts its encrypted password,
 * the owner reads and decrypts it; then the owner sets a password that the guest fetches from the
 * password server and acknowledges. Prints a transcript; exits 0 only if every step matched.
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

/** What an agent asks the password server, from the guest's own address (as CloudStack's agents). */
function askPasswordServer(port: number, instance: DemoInstance, word: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path: '/', localAddress: instance.address, headers: { DomU_Request: word } };
    get(options, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    }).on('error', reject);
  });
}

/** The owner sets a password (Nova's changePassword action); the guest's agent fetches and acknowledges it. */
async function ownerSetPassword(base: string, passwordServerPort: number): Promise<void> {
  const action = (role: 'reader' | 'member', adminPass: string) =>
    call(base, `/compute/v2.1/servers/${web.id}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': tokenOf(web.projectId, role), 'Content-Type': 'application/json' },
      body: JSON.stringify({ changePassword: { adminPass } }),
    });
  const refused = await action('reader', 'Reader-Chosen-1');
  step('8: a reader may not set a password', refused.status === 403, String(refused.status));
  const chosen = `Owner-${randomBytes(9).toString('base64url')}`;
  const queued = await action('member', chosen);
  step('9: the owner (member) sets a password with changePassword', queued.status === 202, String(queued.status));
  const fetched = await askPasswordServer(passwordServerPort, web, 'send_my_password');
  step(`10: guest ${web.name} fetches it from the password server (DomU_Request: send_my_password)`, fetched.text === chosen, fetched.text === chosen ? 'matches' : `got ${fetched.status}`);
  const acknowledged = await askPasswordServer(passwordServerPort, web, 'saved_password');
  const after = await askPasswordServer(passwordServerPort, web, 'send_my_password');
  step('11: guest acknowledges it (saved_password); nothing is pending afterwards', acknowledged.text === 'saved_password' && after.text === 'saved_password', after.text);
}

async function main(): Promise<void> {
  const server = demo.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const passwordServer = demo.passwordServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => passwordServer.once('listening', resolve));
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
    await ownerSetPassword(base, (passwordServer.address() as AddressInfo).port);
  } finally {
    server.close();
    passwordServer.close();
    rmSync(keyDir, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nEvery step matched.' : `\n${failures} step(s) failed.`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error('The demo failed:', error);
  process.exitCode = 1;
});
