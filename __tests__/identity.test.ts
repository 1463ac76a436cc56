import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createPasswordRouter, signedProxyIdentity } from '../lib';
import { ciphertext } from './helpers/app';

const SECRET = 'b3f1c0de5e9a4c7d8e2f1a0b9c8d7e6f';
const sign = (instanceId: string, secret = SECRET) => createHmac('sha256', secret).update(instanceId).digest('hex');

function app() {
  const server = express();
  server.use(
    '/openstack',
    createPasswordRouter({
      authenticate: signedProxyIdentity({ secret: SECRET }),
      lookupInstance: ({ principal }) => (principal.projectId === 'p1' ? { id: principal.instanceId } : null),
      logger: { warn: () => {}, error: () => {} },
    }),
  );
  return server;
}

describe('signedProxyIdentity', () => {
  it('accepts a correctly signed request and hands instance and project to lookupInstance', async () => {
    const res = await request(app())
      .post('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') })
      .send(ciphertext());
    expect(res.status).toBe(200);
    const other = await request(app())
      .get('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p2', 'X-Instance-ID-Signature': sign('i-1') });
    expect(other.status).toBe(404);
  });

  it.each([
    ['X-Instance-ID', { 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') }],
    ['X-Tenant-ID', { 'X-Instance-ID': 'i-1', 'X-Instance-ID-Signature': sign('i-1') }],
    ['X-Instance-ID-Signature', { 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1' }],
  ])('answers 400 BAD_REQUEST naming a missing %s', async (name, headers) => {
    const res = await request(app()).post('/openstack/latest/password').set(headers).send(ciphertext());
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'BAD_REQUEST', message: `The ${name} header is missing.` });
  });

  it.each(['X-Instance-ID', 'X-Tenant-ID', 'X-Instance-ID-Signature'])(
    'answers 400 BAD_REQUEST naming a repeated %s, storing nothing',
    async (name) => {
      const server = app();
      const headers: Record<string, string> = { 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': sign('i-1') };
      const req = request(server).post('/openstack/latest/password');
      for (const [key, value] of Object.entries(headers)) req.set(key, (key === name ? [value, value] : value) as string);
      const res = await req.send(ciphertext());
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(`The ${name} header is repeated.`);
      const check = await request(server)
        .get('/openstack/latest/password')
        .set(headers);
      expect(check.text).toBe('');
    },
  );

  it.each([
    ['another instance', sign('i-2')],
    ['another secret', sign('i-1', 'another-secret-of-length')],
    ['a short value', 'abc'],
    ['a long value', `${sign('i-1')}00`],
    ['upper case', sign('i-1').toUpperCase()],
  ])('answers 403 FORBIDDEN to a signature of %s', async (_name, signature) => {
    const res = await request(app())
      .post('/openstack/latest/password')
      .set({ 'X-Instance-ID': 'i-1', 'X-Tenant-ID': 'p1', 'X-Instance-ID-Signature': signature })
      .send(ciphertext());
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({ code: 'FORBIDDEN', message: 'Invalid proxy request signature.' });
  });

  it('refuses a secret shorter than 16 characters with a hint', () => {
    expect(() => signedProxyIdentity({ secret: '' })).toThrow(/openssl rand -hex 32/);
    expect(() => signedProxyIdentity({ secret: 'short' })).toThrow(/at least 16/);
    expect(() => signedProxyIdentity({} as { secret: string })).toThrow(/secret/);
    expect(() => signedProxyIdentity({ secret: SECRET, secrte: 'x' } as { secret: string })).toThrow(/Did you mean `secret`/);
  });
});
