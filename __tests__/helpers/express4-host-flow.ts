import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import sshpk from 'sshpk';
import request from 'supertest';
import { decryptPassword, encryptPassword } from '../../lib/crypto';
import type { PasswordEvent } from '../../lib/types';
import type { HostOptions, KeystoneAuth, Server } from '../../examples/express4-host';

/**
 * The world of examples/express4-host.ts for one run: a project's server with a keypair, another
 * project's server, and Keystone tokens. Plain JSON, so a consumer process can be given it too.
 */
export interface HostFixture {
  readonly proxySecret: string;
  readonly servers: readonly Server[];
  readonly tokens: Readonly<Record<string, KeystoneAuth>>;
  /** The owner's private key (PKCS#8 PEM) for the first server's keypair. */
  readonly privateKey: string;
}

export function makeHostFixture(): HostFixture {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    proxySecret: `test-proxy-secret-${randomUUID()}`,
    servers: [
      {
        id: randomUUID(),
        name: 'win-1',
        projectId: 'project-a',
        publicKey: sshpk.parseKey(publicKey, 'pem').toString('ssh'),
        userData: '#ps1_sysnative\nWrite-Host hello\n',
      },
      { id: randomUUID(), name: 'other', projectId: 'project-b' },
    ],
    tokens: {
      'token-alice': { userId: 'alice', projectId: 'project-a', roles: ['member', 'reader'] },
      'token-rita': { userId: 'rita', projectId: 'project-a', roles: ['reader'] },
      'token-bob': { userId: 'bob', projectId: 'project-b', roles: ['member'] },
    },
    privateKey,
  };
}

/** The host's compute database and Keystone, answered from the fixture. */
export function hostServices(fixture: HostFixture): Pick<HostOptions, 'proxySecret' | 'findServer' | 'validateToken'> {
  return {
    proxySecret: fixture.proxySecret,
    findServer: async (id) => fixture.servers.find((server) => server.id === id),
    validateToken: async (token) => (Object.hasOwn(fixture.tokens, token) ? fixture.tokens[token] : undefined),
  };
}

/** The headers Neutron's metadata proxy adds for `server`. */
function proxyHeaders(fixture: HostFixture, server: Server): Record<string, string> {
  return {
    'X-Instance-ID': server.id,
    'X-Tenant-ID': server.projectId,
    'X-Instance-ID-Signature': createHmac('sha256', fixture.proxySecret).update(server.id).digest('hex'),
  };
}

/** Resolves once `condition` holds or `timeoutMs` has passed: events may trail the HTTP answer. */
async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * Drives a running express4-host as cloudbase-init and an owner do: the host's own metadata routes,
 * the guest's form-encoded POST of a base64 ciphertext, the owner's read with a token, another
 * project's 404, the rebuild action and the guest's second POST, and the events' principals.
 */
export async function expectAdopterFlow(url: string, fixture: HostFixture, events: () => readonly PasswordEvent[]): Promise<void> {
  const [server, foreign] = fixture.servers;
  const guest = proxyHeaders(fixture, server);
  const password = '/openstack/latest/password';
  const owner = `/compute/v2.1/servers/${server.id}/os-server-password`;

  // The host's own metadata routes, vouched for by the same signedProxyIdentity.
  const meta = await request(url).get('/openstack/2013-04-04/meta_data.json').set(guest).expect(200);
  expect(meta.body).toMatchObject({ uuid: server.id, name: server.name, project_id: server.projectId });
  const userData = await request(url).get('/openstack/latest/user_data').set(guest).buffer(true).expect(200);
  expect(Buffer.from(userData.body as Buffer).toString()).toBe(server.userData);
  const forged = await request(url)
    .get('/openstack/latest/meta_data.json')
    .set({ ...guest, 'X-Instance-ID': foreign.id })
    .expect(403);
  expect(forged.body).toEqual({ forbidden: { code: 403, message: expect.any(String) } });

  // cloudbase-init: is a password set? Then POST it form-typed, as Python's urllib does.
  await request(url).get(password).set(guest).expect(200, '');
  const plaintext = 'Adm1n-P@ss+word=';
  const ciphertext = encryptPassword(plaintext, server.publicKey!);
  await request(url).post(password).set(guest).type('form').send(ciphertext).expect(200, '');
  const again = await request(url).post(password).set(guest).type('form').send(ciphertext).expect(409);
  expect(again.body).toEqual({ conflictingRequest: { code: 409, message: expect.any(String) } });
  expect((await request(url).get(password).set(guest).expect(200)).text).toBe(ciphertext);
  // Not made for this server's key: refused, nothing stored.
  const plain = await request(url).post(password).set(guest).type('form').send('Passw0rd').expect(400);
  expect(plain.body).toEqual({ badRequest: { code: 400, message: expect.any(String) } });

  // The owner, with a Keystone token.
  const anonymous = await request(url).get(owner).expect(401);
  expect(anonymous.headers['www-authenticate']).toBeDefined();
  const otherProject = await request(url).get(owner).set('X-Auth-Token', 'token-bob').expect(404);
  expect(otherProject.body).toEqual({ itemNotFound: { code: 404, message: expect.any(String) } });
  const read = await request(url).get(owner).set('X-Auth-Token', 'token-alice').expect(200);
  expect(read.body).toEqual({ password: ciphertext });
  expect(decryptPassword(read.body.password, fixture.privateKey)).toBe(plaintext);
  await request(url).delete(owner).set('X-Auth-Token', 'token-rita').expect(403);

  // Rebuild: the old password goes, and the rebuilt guest's agent may post its new one.
  const action = `/compute/v2.1/servers/${server.id}/action`;
  await request(url).post(action).set('X-Auth-Token', 'token-bob').send({ rebuild: { imageRef: 'img' } }).expect(404);
  await request(url)
    .post(action)
    .set('X-Auth-Token', 'token-alice')
    .send({ rebuild: { imageRef: 'img' } })
    .expect(202, { server: { id: server.id, status: 'REBUILD' } });
  await request(url).get(owner).set('X-Auth-Token', 'token-alice').expect(200, { password: '' });
  const rebuilt = encryptPassword('N3w-after-rebuild', server.publicKey!);
  await request(url).post(password).set(guest).type('form').send(rebuilt).expect(200, '');
  const reread = await request(url).get(owner).set('X-Auth-Token', 'token-alice').expect(200);
  expect(decryptPassword(reread.body.password, fixture.privateKey)).toBe('N3w-after-rebuild');

  // Who acted: the guest by its instance id, owners by their Keystone user id.
  const about = (type: string) => events().filter((event) => event.type === type && event.instanceId === server.id);
  await until(() => about('password.cleared').length > 0 && about('password.read').length >= 3 && about('password.set').length >= 2 && about('password.conflict').length >= 1);
  expect(about('password.set').map((event) => event.principalId)).toEqual([server.id, server.id]);
  expect(about('password.conflict').map((event) => event.principalId)).toEqual([server.id]);
  expect(about('password.read').map((event) => event.principalId)).toEqual([server.id, 'alice', 'alice']);
  expect(about('password.cleared').map((event) => event.principalId)).toEqual(['alice']);
  expect(about('access.denied').map((event) => event.principalId)).toContain('rita');
}
