import request from 'supertest';
import express, { type Express } from 'express';
import { createServerPasswordRouter, MemoryStore, PasswordError, PasswordService } from '../lib';
import { ciphertext, hostApp } from './helpers/app';
import { heapRetainedBy } from './helpers/heap';
import { listen } from './helpers/raw-http';

const URL = '/compute/v2.1/servers/p1-web/os-server-password';
const READER = { 'X-Auth-Token': 'reader-p1' };
const MEMBER = { 'X-Auth-Token': 'member-p1' };

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.error.code).toBe(code);
}

async function guestPosts(app: Express, instance = 'p1-web', value = ciphertext()) {
  const res = await request(app).post('/openstack/latest/password').set('X-Test-Instance', instance).send(value);
  return { status: res.status, value };
}

describe('owner router: GET /servers/:serverId/os-server-password', () => {
  it('answers {"password": ""} when nothing is set', async () => {
    const { app } = hostApp();
    const res = await request(app).get(URL).set(READER);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toEqual({ password: '' });
  });

  it("lets a project reader read what the guest posted, emitting password.read with the owner's id", async () => {
    const { app, events } = hostApp();
    const { value } = await guestPosts(app);
    const res = await request(app).get(URL).set(READER);
    expect(res.body).toEqual({ password: value });
    expect(events.at(-1)).toEqual({
      type: 'password.read',
      instanceId: 'p1-web',
      principalId: 'reader@p1',
      requestId: res.headers['x-openstack-request-id'],
      durationMs: expect.any(Number),
      at: expect.any(Date),
    });
    expect(events[0]).toEqual(expect.objectContaining({ type: 'password.set', principalId: 'p1-web' }));
  });

  it('answers HEAD without a body', async () => {
    const { app } = hostApp();
    await guestPosts(app);
    const res = await request(app).head(URL).set(READER);
    expect(res.status).toBe(200);
    expect(res.text).toBeUndefined();
  });
});

describe('owner router: DELETE /servers/:serverId/os-server-password', () => {
  it('lets a member clear with 204; the guest may then post again', async () => {
    const { app, events } = hostApp();
    await guestPosts(app);
    const res = await request(app).delete(URL).set(MEMBER);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'password.cleared', principalId: 'member@p1' }));
    expect((await request(app).get(URL).set(READER)).body).toEqual({ password: '' });
    const again = await guestPosts(app);
    expect(again.status).toBe(200);
    expect((await request(app).get(URL).set(READER)).body).toEqual({ password: again.value });
  });

  it('answers 204 when nothing was set, without a cleared event', async () => {
    const { app, events } = hostApp();
    expect((await request(app).delete(URL).set(MEMBER)).status).toBe(204);
    expect(events.filter((event) => event.type === 'password.cleared')).toEqual([]);
  });

  it("refuses a reader's clear with the host hook's 403, keeping the value", async () => {
    const { app, events } = hostApp();
    const { value } = await guestPosts(app);
    expectError(await request(app).delete(URL).set(READER), 403, 'FORBIDDEN');
    expect((await request(app).get(URL).set(READER)).body).toEqual({ password: value });
    expect(events).toContainEqual(expect.objectContaining({ type: 'access.denied', reason: 'FORBIDDEN', instanceId: 'p1-web' }));
  });
});

describe('owner router: refusals', () => {
  it("answers another project's server 404 INSTANCE_NOT_FOUND, read or clear", async () => {
    const { app } = hostApp();
    await guestPosts(app);
    expectError(await request(app).get(URL).set('X-Auth-Token', 'member-p2'), 404, 'INSTANCE_NOT_FOUND');
    expectError(await request(app).delete(URL).set('X-Auth-Token', 'member-p2'), 404, 'INSTANCE_NOT_FOUND');
    expect((await request(app).get(URL).set(READER)).body.password).not.toBe('');
  });

  it('answers no or a bad token 401 UNAUTHENTICATED with WWW-Authenticate', async () => {
    const { app, events } = hostApp();
    for (const req of [request(app).get(URL), request(app).delete(URL).set('X-Auth-Token', 'bogus')]) {
      const res = await req;
      expectError(res, 401, 'UNAUTHENTICATED');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="compute"');
    }
    expect(events).toEqual([
      expect.objectContaining({ type: 'access.denied', reason: 'UNAUTHENTICATED', instanceId: 'p1-web' }),
      expect.objectContaining({ type: 'access.denied', reason: 'UNAUTHENTICATED', instanceId: 'p1-web' }),
    ]);
  });

  it('adds WWW-Authenticate to a 401 the host hook throws', async () => {
    const { app } = hostApp({
      authenticate: () => {
        throw new PasswordError(401, 'UNAUTHENTICATED', 'The token has expired.');
      },
    });
    const res = await request(app).get(URL).set(READER);
    expectError(res, 401, 'UNAUTHENTICATED');
    expect(res.body.error.message).toBe('The token has expired.');
    expect(res.headers['www-authenticate']).toBeDefined();
  });

  it.each(['?all_tenants=1', '?foo', '?a=1&b=2'])('answers a query parameter (%s) 400 BAD_REQUEST', async (query) => {
    const { app } = hostApp();
    expectError(await request(app).get(`${URL}${query}`).set(READER), 400, 'BAD_REQUEST');
    expectError(await request(app).delete(`${URL}${query}`).set(MEMBER), 400, 'BAD_REQUEST');
  });

  it.each([
    ['too long', `p1-${'x'.repeat(253)}`],
    ['a space', 'p1-a%20b'],
    ['a slash', 'p1-a%2Fb'],
    ['non-ASCII', 'p1-%C3%A9'],
    ['a quote', "p1-a'b"],
  ])('answers a server id with %s 400 BAD_REQUEST before any hook runs', async (_name, serverId) => {
    let hookCalls = 0;
    const { app } = hostApp({
      authenticate: () => {
        hookCalls++;
        return null;
      },
    });
    expectError(await request(app).get(`/compute/v2.1/servers/${serverId}/os-server-password`), 400, 'BAD_REQUEST');
    expect(hookCalls).toBe(0);
  });

  it('accepts ids of up to 255 characters of [A-Za-z0-9._~-]', async () => {
    const { app } = hostApp();
    const id = `p1-${'aZ0._~-'.repeat(36)}`;
    expect(id.length).toBe(255);
    expect((await request(app).get(`/compute/v2.1/servers/${id}/os-server-password`).set(READER)).status).toBe(200);
  });

  it.each(['POST', 'PUT', 'PATCH', 'OPTIONS'])('answers %s 405 with Allow: GET, HEAD, DELETE', async (method) => {
    const { app } = hostApp();
    const res = await request(app)[method.toLowerCase() as 'post'](URL).set(MEMBER).send('x');
    expectError(res, 405, 'METHOD_NOT_ALLOWED');
    expect(res.headers.allow).toBe('GET, HEAD, DELETE');
  });

  it("leaves the host's other compute routes alone", async () => {
    const { app } = hostApp();
    app.get('/compute/v2.1/servers/:id', (_req, res) => {
      res.json({ server: {} });
    });
    const res = await request(app).get('/compute/v2.1/servers/p1-web').set(READER);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBeUndefined();
  });
});

describe('host actions through the shared PasswordService', () => {
  it('overwrite replaces even a set value and emits password.set with reason overwrite', async () => {
    const { app, service, events } = hostApp();
    await guestPosts(app);
    const replacement = ciphertext();
    await service.overwrite('p1-web', replacement, { principalId: 'admin' });
    expect((await request(app).get(URL).set(READER)).body).toEqual({ password: replacement });
    expect(events).toContainEqual(expect.objectContaining({ type: 'password.set', reason: 'overwrite', principalId: 'admin' }));
  });

  it('clear on rebuild lets the new agent post its password', async () => {
    const { app, service } = hostApp();
    await guestPosts(app);
    expect((await guestPosts(app)).status).toBe(409);
    expect(await service.clear('p1-web', { principalId: 'rebuild' })).toBe(true);
    const rebuilt = await guestPosts(app);
    expect(rebuilt.status).toBe(200);
    expect((await request(app).get(URL).set(READER)).body).toEqual({ password: rebuilt.value });
  });

  it('serves the owner router on a service of its own store', async () => {
    const store = new MemoryStore();
    const value = ciphertext();
    await store.set('p1-web', value);
    const events: string[] = [];
    const app = express();
    app.use(
      createServerPasswordRouter({
        service: new PasswordService({ store, onEvent: (event) => events.push(event.type) }),
        authenticate: () => ({ id: 'owner' }),
        lookupInstance: ({ instanceId }) => ({ id: instanceId }),
      }),
    );
    expect((await request(app).get('/servers/p1-web/os-server-password')).body).toEqual({ password: value });
    expect(events).toEqual(['password.read']);
  });
});

describe('owner router: what a caller sends is never kept', () => {
  it('keeps no trace of 1,100 unauthenticated GETs with distinct 15 KB server ids (all 400)', async () => {
    const { app } = hostApp();
    const listening = await listen(app);
    try {
      let next = 0;
      const ask = () =>
        fetch(`http://127.0.0.1:${listening.port}/compute/v2.1/servers/${String(next++).padStart(6, '0')}${'x'.repeat(15_000)}/os-server-password`);
      // 1,100 ids of 15 KB are 16.5 MB; a cache of the last 1,000 verdicts retained about 21 MB here.
      // The HTTP client's and the test's own bookkeeping stay under 6 MB.
      expect(await heapRetainedBy(ask, 400)).toBeLessThan(10 * 1024 * 1024);
    } finally {
      await listening.close();
    }
  }, 60_000);
});
