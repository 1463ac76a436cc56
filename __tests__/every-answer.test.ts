import type { Server } from 'node:http';
import request from 'supertest';
import { PasswordError } from '../lib';
import { ciphertext, hostApp, type TestHost } from './helpers/app';
import { listen, rawRequest } from './helpers/raw-http';

/** The headers every answer of the routers carries by default, and nothing page-only. */
const API_HEADERS = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};
const PAGE_ONLY_HEADERS = [
  'x-frame-options',
  'x-xss-protection',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
  'origin-agent-cluster',
  'cross-origin-opener-policy',
  'cross-origin-embedder-policy',
  'cross-origin-resource-policy',
  'strict-transport-security',
];

function expectOwnAnswer(headers: Record<string, string | undefined>): void {
  expect(headers).toMatchObject(API_HEADERS);
  expect(headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  for (const name of PAGE_ONLY_HEADERS) expect(headers[name]).toBeUndefined();
}

describe('every answer of the routers', () => {
  let host: TestHost;
  let server: Server;
  let close: () => Promise<void>;

  beforeAll(async () => {
    host = hostApp();
    ({ server, close } = await listen(host.app));
  });
  afterAll(() => close());

  it.each([
    ['guest GET', 'get', '/openstack/latest/password', { 'X-Test-Instance': 'p1-a' }],
    ['guest 404 version', 'get', '/openstack/1999-01-01/password', {}],
    ['guest 405', 'put', '/openstack/latest/password', {}],
    ['owner GET', 'get', '/compute/v2.1/servers/p1-a/os-server-password', { 'X-Auth-Token': 'reader-p1' }],
    ['owner 401', 'delete', '/compute/v2.1/servers/p1-a/os-server-password', {}],
    ['owner 400', 'get', '/compute/v2.1/servers/a%20b/os-server-password', {}],
  ] as const)('%s carries the API security headers and no page-only ones', async (_, method, path, headers) => {
    const res = await request(server)[method](path).set(headers);
    expectOwnAnswer(res.headers);
  });

  it.each([
    ['a guest version', '/openstack/%ZZ/password'],
    ['a guest version cut short', '/openstack/%E0%A4%A/password'],
    ['a server id', '/compute/v2.1/servers/%E0%A4%A/os-server-password'],
    ['a server id with a lone %', '/compute/v2.1/servers/%/os-server-password'],
  ])('a malformed percent-escape in %s is 400 BAD_REQUEST in JSON, never an HTML page', async (_, path) => {
    for (const method of ['get', 'post', 'delete'] as const) {
      const res = await request(server)[method](path);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toEqual({ error: { code: 'BAD_REQUEST', message: 'The path holds a malformed percent-escape.' } });
      expectOwnAnswer(res.headers);
    }
  });

  it("leaves a malformed escape on the host's own routes to the host", async () => {
    const res = await request(server).get('/openstack/%ZZ/meta_data.json');
    expect(res.headers['x-openstack-request-id']).toBeUndefined();
  });

  it.each(['.', '..', '...', '%2e', '%2E%2e', '.%2e'])('refuses the server id %s with 400 before any hook runs', async (id) => {
    const seen: unknown[] = [];
    const app = hostApp({
      authenticate: (req) => {
        seen.push(req.path);
        return { id: 'x', projectId: 'p1', role: 'member' };
      },
    });
    for (const method of ['get', 'delete'] as const) {
      const res = await request(app.app)[method](`/compute/v2.1/servers/${id}/os-server-password`);
      expect([res.status, res.body.error?.code]).toEqual([400, 'BAD_REQUEST']);
    }
    expect(seen).toEqual([]);
  });

  it('still serves ids with dots among other characters', async () => {
    await host.service.overwrite('p1-web.1', ciphertext());
    const res = await request(server).get('/compute/v2.1/servers/p1-web.1/os-server-password').set('X-Auth-Token', 'reader-p1');
    expect(res.status).toBe(200);
  });
});

describe('an answer given while the request body is unread closes the connection', () => {
  let host: TestHost;
  let port: number;
  let close: () => Promise<void>;

  beforeAll(async () => {
    host = hostApp({
      lookupInstance: ({ instanceId }) => {
        if (instanceId === 'p1-forbidden') throw new PasswordError(403, 'FORBIDDEN', 'No.');
        return { id: instanceId };
      },
    });
    ({ port, close } = await listen(host.app));
  });
  afterAll(() => close());

  const body = 'x'.repeat(64 * 1024);
  it.each([
    ['a 204 to a DELETE', 'DELETE', '/compute/v2.1/servers/p1-a/os-server-password', 'X-Auth-Token: member-p1', 204],
    ['a 200 to an owner GET', 'GET', '/compute/v2.1/servers/p1-a/os-server-password', 'X-Auth-Token: member-p1', 200],
    ['a 200 to a guest GET', 'GET', '/openstack/latest/password', 'X-Test-Instance: p1-a', 200],
    ['a 403 from the hook', 'DELETE', '/compute/v2.1/servers/p1-forbidden/os-server-password', 'X-Auth-Token: member-p1', 403],
    ['a 405', 'PUT', '/openstack/latest/password', 'X-Test-Instance: p1-a', 405],
    ['a 404 version', 'POST', '/openstack/1999-01-01/password', 'X-Test-Instance: p1-a', 404],
    ['a 400 server id', 'DELETE', '/compute/v2.1/servers/%2e%2e/os-server-password', 'X-Auth-Token: member-p1', 400],
  ])('%s', async (_, method, path, header, status) => {
    for (const framing of [`Content-Length: ${body.length + 1000}`, 'Transfer-Encoding: chunked']) {
      const head = `${method} ${path} HTTP/1.1\r\nHost: x\r\n${header}\r\n${framing}\r\n\r\n`;
      const first = framing.startsWith('Transfer') ? `${body.length.toString(16)}\r\n${body}\r\n` : body;
      const answer = await rawRequest(port, [head, first]);
      expect(answer.status).toBe(status);
      expect(answer.headers.connection).toBe('close');
      expect(answer.closed).toBe(true);
    }
  });

  it('keeps the connection of an answer without a body alive', async () => {
    const answer = await rawRequest(port, [
      'DELETE /compute/v2.1/servers/p1-a/os-server-password HTTP/1.1\r\nHost: x\r\nX-Auth-Token: member-p1\r\n\r\n',
    ]);
    expect(answer.status).toBe(204);
    expect(answer.headers.connection).toBe('keep-alive');
    expect(answer.closed).toBe(false);
  });
});
