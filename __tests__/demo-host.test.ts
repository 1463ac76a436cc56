import { constants, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createDemoHost, type DemoHost } from '../examples/demo-host';

let keyDir: string;
let demo: DemoHost;

beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'mdpw-demo-'));
  demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef', keyDir });
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

function token(projectId: string, role: 'reader' | 'member'): string {
  return [...demo.tokens].find(([, owner]) => owner.projectId === projectId && owner.role === role)![0];
}

describe('the demo host app', () => {
  it('serves the whole flow: guest posts, owner reads, reader may not clear, rebuild lets the guest post again', async () => {
    const [web] = demo.instances;
    const meta = await request(demo.app).get('/openstack/latest/meta_data.json').set(demo.guestHeaders(web));
    expect(meta.body.public_keys.alice).toMatch(/^ssh-rsa AAAA/);
    const encrypt = (text: string) =>
      publicEncrypt({ key: readFileSync(web.key.publicKeyFile), padding: constants.RSA_PKCS1_PADDING }, Buffer.from(text)).toString('base64');
    const first = encrypt(randomBytes(12).toString('hex'));
    const url = `/compute/v2.1/servers/${web.id}/os-server-password`;

    expect((await request(demo.app).post('/openstack/latest/password').set(demo.guestHeaders(web)).send(first)).status).toBe(200);
    expect((await request(demo.app).post('/openstack/latest/password').set(demo.guestHeaders(web)).send(encrypt('x'))).status).toBe(409);
    expect((await request(demo.app).get(url).set('X-Auth-Token', token('demo-a', 'reader'))).body).toEqual({ password: first });
    expect((await request(demo.app).get(url).set('X-Auth-Token', token('demo-b', 'member'))).status).toBe(404);
    expect((await request(demo.app).delete(url).set('X-Auth-Token', token('demo-a', 'reader'))).status).toBe(403);

    const rebuild = await request(demo.app)
      .post(`/compute/v2.1/servers/${web.id}/action`)
      .set('X-Auth-Token', token('demo-a', 'member'))
      .send({ rebuild: {} });
    expect(rebuild.status).toBe(202);
    const second = encrypt('after rebuild');
    expect((await request(demo.app).post('/openstack/latest/password').set(demo.guestHeaders(web)).send(second)).status).toBe(200);
    expect((await request(demo.app).get(url).set('X-Auth-Token', token('demo-a', 'member'))).body).toEqual({ password: second });
  });

  it("refuses a guest whose signature is for another instance, and another project's rebuild", async () => {
    const [web, db] = demo.instances;
    const forged = { ...demo.guestHeaders(web), 'X-Instance-ID': db.id };
    expect((await request(demo.app).get('/openstack/latest/password').set(forged)).status).toBe(403);
    const rebuild = await request(demo.app)
      .post(`/compute/v2.1/servers/${web.id}/action`)
      .set('X-Auth-Token', token('demo-b', 'member'))
      .send({ rebuild: {} });
    expect(rebuild.status).toBe(404);
  });
});
