import request from 'supertest';
import { PASSWORD_VERSIONS, PasswordError } from '../lib';
import { ciphertext, guestApp } from './helpers/app';

const GUEST = { 'X-Test-Instance': 'i-1' };

function expectRouteHeaders(res: request.Response): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['content-security-policy']).toBeDefined();
}

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expectRouteHeaders(res);
}

describe('guest router: GET /:version/password', () => {
  it('answers 200 text/plain with an empty body when nothing is set', async () => {
    const { app } = guestApp();
    const res = await request(app).get('/openstack/latest/password').set(GUEST);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe('');
    expectRouteHeaders(res);
  });

  it('answers the stored value', async () => {
    const { app, service } = guestApp();
    const value = ciphertext();
    await service.setOnce('i-1', value);
    const res = await request(app).get('/openstack/2013-04-04/password').set(GUEST);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe(value);
  });

  it('serves every version that has passwords, and a custom list when given', async () => {
    const { app } = guestApp();
    for (const version of PASSWORD_VERSIONS) {
      expect((await request(app).get(`/openstack/${version}/password`).set(GUEST)).status).toBe(200);
    }
    const custom = guestApp({ versions: ['2099-01-01'] }).app;
    expect((await request(custom).get('/openstack/2099-01-01/password').set(GUEST)).status).toBe(200);
    expectError(await request(custom).get('/openstack/latest/password').set(GUEST), 404, 'UNSUPPORTED_VERSION');
  });

  it('answers HEAD like GET without a body and without a read event', async () => {
    const { app, service, events } = guestApp();
    const value = ciphertext();
    await service.setOnce('i-1', value);
    events.length = 0;
    const res = await request(app).head('/openstack/latest/password').set(GUEST);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(value.length));
    expect(events).toEqual([]);
  });

  it('ignores query strings, as Nova does', async () => {
    const { app, service } = guestApp();
    const value = ciphertext();
    await service.setOnce('i-1', value);
    const res = await request(app).get('/openstack/latest/password?x=1&y').set(GUEST);
    expect(res.text).toBe(value);
  });

  it('emits password.read with the instance, principal and request id, never the value', async () => {
    const { app, service, events } = guestApp();
    const value = ciphertext();
    await service.setOnce('i-1', value);
    events.length = 0;
    const requestId = 'req-0b5d1c2e-8f3a-4c1b-9d2e-123456789abc';
    const res = await request(app).get('/openstack/latest/password').set(GUEST).set('X-Openstack-Request-Id', requestId);
    expect(res.headers['x-openstack-request-id']).toBe(requestId);
    expect(events).toEqual([
      { type: 'password.read', instanceId: 'i-1', principalId: 'i-1', requestId, durationMs: expect.any(Number), at: expect.any(Date) },
    ]);
    expect(JSON.stringify(events)).not.toContain(value);
  });

  it('does not emit password.read when nothing was returned', async () => {
    const { app, events } = guestApp();
    await request(app).get('/openstack/latest/password').set(GUEST);
    expect(events).toEqual([]);
  });

  it('replaces a request id that is not req-<uuid>', async () => {
    const { app } = guestApp();
    const res = await request(app).get('/openstack/latest/password').set(GUEST).set('X-Openstack-Request-Id', 'evil\tid');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  });
});

describe('guest router: POST /:version/password', () => {
  it('stores the body and answers 200 with an empty body, whatever the Content-Type', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/octet-stream', 'text/plain', undefined]) {
      const { app, service, events } = guestApp();
      const value = ciphertext();
      const post = request(app).post('/openstack/2013-04-04/password').set(GUEST);
      if (type) post.set('Content-Type', type);
      const res = await post.send(value);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expectRouteHeaders(res);
      expect(await service.get('i-1')).toBe(value);
      expect(events.map((event) => event.type)).toContain('password.set');
    }
  });

  it('answers 409 PASSWORD_ALREADY_SET to a second POST and keeps the first value', async () => {
    const { app, service, events } = guestApp();
    const first = ciphertext();
    await request(app).post('/openstack/latest/password').set(GUEST).send(first);
    const res = await request(app).post('/openstack/latest/password').set(GUEST).send(ciphertext());
    expectError(res, 409, 'PASSWORD_ALREADY_SET');
    expect(events.map((event) => event.type)).toEqual(['password.set', 'password.conflict']);
    expect(await service.get('i-1')).toBe(first);
  });

  it('removes CR/LF line breaks from base64 before checking and storing', async () => {
    const { app, service } = guestApp();
    const value = ciphertext();
    const wrapped = `${value.slice(0, 64)}\r\n${value.slice(64, 128)}\n${value.slice(128)}\n`;
    expect((await request(app).post('/openstack/latest/password').set(GUEST).send(wrapped)).status).toBe(200);
    expect(await service.get('i-1')).toBe(value);
  });

  it.each([
    ['plaintext', 'Passw0rd', /not plaintext/],
    ['empty', '', /empty/],
    ['only line breaks', '\r\n', /empty/],
    ['too short a ciphertext', Buffer.alloc(32).toString('base64'), /decodes to 32 bytes/],
    ['URL-safe base64', ciphertext().replace(/\+/g, '-').replace(/\//g, '_').replace(/[^-_]{2}$/, '-_'), /not base64/],
    ['unpadded base64', Buffer.alloc(65).toString('base64').replace(/=+$/, ''), /not base64/],
    ['a NUL byte', `${ciphertext()}\u0000`, /control characters/],
    ['a tab', `${ciphertext()}\t`, /control characters/],
  ])('answers 400 INVALID_PASSWORD to %s and stores nothing', async (_name, body, message) => {
    const { app, service, events } = guestApp();
    const res = await request(app).post('/openstack/latest/password').set(GUEST).send(body);
    expectError(res, 400, 'INVALID_PASSWORD');
    expect(res.body.error.message).toMatch(message);
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toEqual([
      expect.objectContaining({ type: 'password.rejected', reason: 'INVALID_PASSWORD', instanceId: 'i-1' }),
    ]);
  });

  it("accepts any UTF-8 text without control characters in format 'text'", async () => {
    const { app, service } = guestApp({ serviceOptions: { format: 'text' } });
    expect((await request(app).post('/openstack/latest/password').set(GUEST).send('Pässwörd ✓ 密码')).status).toBe(200);
    expect(await service.get('i-1')).toBe('Pässwörd ✓ 密码');
    const other = guestApp({ serviceOptions: { format: 'text' } });
    const res = await request(other.app).post('/openstack/latest/password').set(GUEST).send('line\nbreak');
    expectError(res, 400, 'INVALID_PASSWORD');
    expect(await other.service.get('i-1')).toBeUndefined();
  });

  it('answers 413 PAYLOAD_TOO_LARGE from Content-Length, with Connection: close', async () => {
    const { app, service, events } = guestApp();
    const res = await request(app).post('/openstack/latest/password').set(GUEST).send('A'.repeat(1021));
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(res.headers.connection).toBe('close');
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'PAYLOAD_TOO_LARGE' })]);
  });

  it('takes values up to maxBytes', async () => {
    const { app, service } = guestApp({ serviceOptions: { maxBytes: 4096 } });
    const value = ciphertext(1024);
    expect((await request(app).post('/openstack/latest/password').set(GUEST).send(value)).status).toBe(200);
    expect(await service.get('i-1')).toBe(value);
  });

  it('answers 415 UNSUPPORTED_ENCODING to a compressed body', async () => {
    const { app, service } = guestApp();
    const res = await request(app)
      .post('/openstack/latest/password')
      .set(GUEST)
      .set('Content-Encoding', 'gzip')
      .send(ciphertext());
    expectError(res, 415, 'UNSUPPORTED_ENCODING');
    expect(await service.get('i-1')).toBeUndefined();
    const identity = await request(app)
      .post('/openstack/latest/password')
      .set(GUEST)
      .set('Content-Encoding', 'identity')
      .send(ciphertext());
    expect(identity.status).toBe(200);
  });
});

describe('guest router: methods, versions and paths', () => {
  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s with 405 and Allow', async (method) => {
    const { app, service } = guestApp();
    const res = await request(app)[method.toLowerCase() as 'put'](`/openstack/latest/password`).set(GUEST).send(ciphertext());
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expectRouteHeaders(res);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it.each([
    ['a right-to-left override', '%E2%80%AEtsetal'],
    ['a line break', 'evil%0AX-Injected:%20yes'],
    ['markup', '%3Cscript%3E'],
  ])('does not echo a decoded version holding %s in the 404', async (_, version) => {
    const { app } = guestApp();
    const res = await request(app).get(`/openstack/${version}/password`).set(GUEST);
    expectError(res, 404, 'UNSUPPORTED_VERSION');
    expect(res.body.error.message).toBe('This metadata version does not serve passwords.');
  });

  it.each(['2012-08-10', 'unknown', 'LATEST'])('answers version %s with 404 UNSUPPORTED_VERSION', async (version) => {
    const { app, service } = guestApp();
    expectError(await request(app).get(`/openstack/${version}/password`).set(GUEST), 404, 'UNSUPPORTED_VERSION');
    expectError(
      await request(app).post(`/openstack/${version}/password`).set(GUEST).send(ciphertext()),
      404,
      'UNSUPPORTED_VERSION',
    );
    expect(await service.get('i-1')).toBeUndefined();
  });

  it("leaves the host's other routes under the mount alone, without the router's headers", async () => {
    const { app } = guestApp();
    const res = await request(app).get('/openstack/latest/meta_data.json').set(GUEST);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ uuid: 'host-route' });
    expect(res.headers['cache-control']).toBeUndefined();
    expect(res.headers['x-openstack-request-id']).toBeUndefined();
    expect(res.headers['content-security-policy']).toBeUndefined();
  });

  it.each(['/openstack/latest/password/x', '/openstack/latest/PASSWORD', '/openstack/password'])(
    'does not handle %s, storing nothing',
    async (path) => {
      const { app, service } = guestApp();
      const res = await request(app).post(path).set(GUEST).send(ciphertext());
      expect(res.status).toBe(404);
      expect(res.headers['x-openstack-request-id']).toBeUndefined();
      expect(await service.get('i-1')).toBeUndefined();
    },
  );

  it('does not add helmet headers when helmet is false, but keeps no-store', async () => {
    const { app } = guestApp({ helmet: false });
    const res = await request(app).get('/openstack/latest/password').set(GUEST);
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it("passes helmet's options on", async () => {
    const { app } = guestApp({ helmet: { contentSecurityPolicy: false, referrerPolicy: { policy: 'same-origin' } } });
    const res = await request(app).get('/openstack/latest/password').set(GUEST);
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.headers['referrer-policy']).toBe('same-origin');
  });
});

describe('guest router: hooks', () => {
  it('answers 403 FORBIDDEN when authenticate returns nothing, and emits access.denied', async () => {
    const { app, service, events } = guestApp();
    expectError(await request(app).get('/openstack/latest/password'), 403, 'FORBIDDEN');
    expectError(await request(app).post('/openstack/latest/password').send(ciphertext()), 403, 'FORBIDDEN');
    expect(events).toEqual([
      expect.objectContaining({ type: 'access.denied', reason: 'FORBIDDEN' }),
      expect.objectContaining({ type: 'access.denied', reason: 'FORBIDDEN' }),
    ]);
    expect(await service.peek('i-1')).toBeUndefined();
  });

  it('answers 404 INSTANCE_NOT_FOUND when lookupInstance returns nothing', async () => {
    const { app, events } = guestApp({ lookupInstance: async () => null });
    expectError(await request(app).post('/openstack/latest/password').set(GUEST).send(ciphertext()), 404, 'INSTANCE_NOT_FOUND');
    expect(events).toEqual([
      expect.objectContaining({ type: 'access.denied', reason: 'INSTANCE_NOT_FOUND', principalId: 'i-1' }),
    ]);
  });

  it("passes the principal, action and request to lookupInstance and stores under the instance's id", async () => {
    const seen: unknown[] = [];
    const { app, service } = guestApp({
      lookupInstance: (context) => {
        const { principal, action, req } = context;
        seen.push({ principal, instanceId: (context as { instanceId?: unknown }).instanceId, action, path: req.path });
        return { id: `uuid-of-${principal.instanceId}` };
      },
    });
    const value = ciphertext();
    await request(app).post('/openstack/latest/password').set(GUEST).send(value);
    await request(app).get('/openstack/latest/password').set(GUEST);
    expect(seen).toEqual([
      { principal: { instanceId: 'i-1' }, instanceId: undefined, action: 'set', path: '/latest/password' },
      { principal: { instanceId: 'i-1' }, instanceId: undefined, action: 'read', path: '/latest/password' },
    ]);
    expect(await service.get('uuid-of-i-1')).toBe(value);
  });

  it("answers a hook's PasswordError with its status and code", async () => {
    const { app } = guestApp({
      authenticate: () => {
        throw new PasswordError(429, 'RATE_LIMITED', 'Slow down.');
      },
    });
    const res = await request(app).get('/openstack/latest/password').set(GUEST);
    expectError(res, 429, 'RATE_LIMITED');
    expect(res.body.error.message).toBe('Slow down.');
    expect(res.headers['retry-after']).toBe('1');
  });

  it('answers 500 INTERNAL with a generic message when a hook throws, and logs the error by name and message', async () => {
    const secret = new Error('db password is hunter2');
    for (const hook of ['authenticate', 'lookupInstance'] as const) {
      const { app, logger, service } = guestApp({
        [hook]: async () => {
          throw secret;
        },
      });
      const res = await request(app).post('/openstack/latest/password').set(GUEST).send(ciphertext());
      expectError(res, 500, 'INTERNAL');
      expect(res.text).not.toContain('hunter2');
      expect(logger.errors.flat()).toContain('Error: db password is hunter2');
      expect(await service.get('i-1')).toBeUndefined();
    }
  });

  it('answers 500 INTERNAL when lookupInstance resolves something without an id', async () => {
    const { app, logger } = guestApp({ lookupInstance: () => ({ id: 42 as unknown as string }) });
    expectError(await request(app).get('/openstack/latest/password').set(GUEST), 500, 'INTERNAL');
    expect(String(logger.errors[0][0])).toMatch(/lookupInstance must resolve/);
  });

  it('names the principal in events with the principalId option', async () => {
    const { app, events } = guestApp({ principalId: (principal) => `guest:${principal.instanceId}` });
    await request(app).post('/openstack/latest/password').set(GUEST).send(ciphertext());
    expect(events[0]).toEqual(expect.objectContaining({ type: 'password.set', principalId: 'guest:i-1' }));
  });

  it('keeps answering when onEvent throws, and logs it', async () => {
    const { app, logger } = guestApp({
      serviceOptions: {
        onEvent: () => {
          throw new Error('audit sink down');
        },
      },
    });
    expect((await request(app).post('/openstack/latest/password').set(GUEST).send(ciphertext())).status).toBe(200);
    expect(String(logger.errors[0][0])).toMatch(/onEvent failed/);
  });
});
